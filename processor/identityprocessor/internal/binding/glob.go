package binding

import "strings"

// pattern is an extension id or host name, exact or with `*` wildcards
// (any run of characters, `/` included: MCP server ids may hold one).
type pattern struct {
	raw   string
	parts []string // raw split on '*'; nil for an exact pattern
}

func compilePattern(s string) pattern {
	if !strings.Contains(s, "*") {
		return pattern{raw: s}
	}
	return pattern{raw: s, parts: strings.Split(s, "*")}
}

func (p pattern) match(s string) bool {
	if p.parts == nil {
		return s == p.raw
	}
	first, last := p.parts[0], p.parts[len(p.parts)-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	s = s[len(first) : len(s)-len(last)]
	for _, mid := range p.parts[1 : len(p.parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return true
}

// patterns matches when any of its patterns does.
type patterns []pattern

func compilePatterns(ss []string) patterns {
	out := make(patterns, len(ss))
	for i, s := range ss {
		out[i] = compilePattern(s)
	}
	return out
}

func (ps patterns) match(s string) bool {
	for _, p := range ps {
		if p.match(s) {
			return true
		}
	}
	return false
}
