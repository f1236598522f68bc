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

// patterns matches when any of its patterns does: exact values by map
// (an identity may be bound to hundreds of extension ids), wildcards in
// turn.
type patterns struct {
	exact map[string]struct{}
	globs []pattern
}

func compilePatterns(ss []string) patterns {
	ps := patterns{exact: make(map[string]struct{}, len(ss))}
	for _, s := range ss {
		if p := compilePattern(s); p.parts != nil {
			ps.globs = append(ps.globs, p)
		} else {
			ps.exact[s] = struct{}{}
		}
	}
	return ps
}

func (ps patterns) empty() bool { return len(ps.exact) == 0 && len(ps.globs) == 0 }

func (ps patterns) match(s string) bool {
	if _, ok := ps.exact[s]; ok {
		return true
	}
	for _, p := range ps.globs {
		if p.match(s) {
			return true
		}
	}
	return false
}
