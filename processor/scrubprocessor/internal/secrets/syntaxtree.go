package secrets

// What a regexp/syntax tree says about its matches: how long they can be,
// which anchors and alternations it has, and the literal text every
// match starts with. The sequence compiler (seq.go), the lean rewrite
// (lean.go) and the rule compiler (rule.go) decide with these.

import (
	"regexp/syntax"
	"unicode/utf8"
)

const maxPrefixes = 64

// hexLiteral: every match of r starts with a literal of hex digits only
// (4b1d..., not AKIA...), which a hash or digest holds by chance.
func hexLiteral(r *syntax.Regexp) bool {
	ps, ok := literalPrefixes(r)
	if !ok {
		return false
	}
	for _, p := range ps {
		for j := 0; j < len(p); j++ {
			if c := p[j]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
	}
	return true
}

func isZeroWidth(r *syntax.Regexp) bool {
	switch r.Op {
	case syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary, syntax.OpEmptyMatch:
		return true
	}
	return false
}

// isContext: a boundary, an end anchor, or an alternation offering one
// (gitleaks' (?:[\x60'"\s;]|\\[nr]|$)).
func isContext(r *syntax.Regexp) bool {
	if isZeroWidth(r) {
		return true
	}
	if r.Op == syntax.OpAlternate {
		for _, s := range r.Sub {
			if s.Op == syntax.OpEndText || s.Op == syntax.OpEndLine {
				return true
			}
		}
	}
	return false
}

func minLen(r *syntax.Regexp) int {
	switch r.Op {
	case syntax.OpLiteral:
		return len(r.Rune)
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1
	case syntax.OpStar, syntax.OpQuest:
		return 0
	case syntax.OpPlus:
		return minLen(r.Sub[0])
	case syntax.OpRepeat:
		return r.Min * minLen(r.Sub[0])
	case syntax.OpConcat:
		n := 0
		for _, s := range r.Sub {
			n += minLen(s)
		}
		return n
	case syntax.OpAlternate:
		n := -1
		for _, s := range r.Sub {
			if l := minLen(s); n < 0 || l < n {
				n = l
			}
		}
		return max(n, 0)
	case syntax.OpCapture:
		return minLen(r.Sub[0])
	}
	return 0
}

// maxLen is the longest match of r in bytes, -1 when unbounded.
func maxLen(r *syntax.Regexp) int {
	switch r.Op {
	case syntax.OpLiteral:
		n := 0
		for _, c := range r.Rune {
			n += utf8.RuneLen(c)
		}
		return n
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return utf8.UTFMax
	case syntax.OpStar, syntax.OpPlus:
		return -1
	case syntax.OpQuest:
		return maxLen(r.Sub[0])
	case syntax.OpRepeat:
		s := maxLen(r.Sub[0])
		if r.Max < 0 || s < 0 {
			return -1
		}
		return r.Max * s
	case syntax.OpConcat:
		n := 0
		for _, s := range r.Sub {
			l := maxLen(s)
			if l < 0 {
				return -1
			}
			n += l
		}
		return n
	case syntax.OpAlternate:
		n := 0
		for _, s := range r.Sub {
			l := maxLen(s)
			if l < 0 {
				return -1
			}
			n = max(n, l)
		}
		return n
	case syntax.OpCapture:
		return maxLen(r.Sub[0])
	}
	return 0
}

func lastCapture(subs []*syntax.Regexp) int {
	for i := len(subs) - 1; i >= 0; i-- {
		if hasCapture(subs[i]) {
			return i
		}
	}
	return -1
}

// literalPrefixes returns the literal texts (lowercase) every match of re
// starts with, one per way to start, each cut where the literal part
// ends; ok is false when some match starts with no literal or there are
// too many ways.
func literalPrefixes(re *syntax.Regexp) (out []string, ok bool) {
	out, _, ok = prefixes(re, []string{""})
	if !ok {
		return nil, false
	}
	for _, p := range out {
		if p == "" {
			return nil, false
		}
	}
	return out, true
}

// prefixes extends each of in by what r must match next; open reports
// whether r was all literal (so the caller may keep extending).
func prefixes(r *syntax.Regexp, in []string) (out []string, open, ok bool) {
	switch r.Op {
	case syntax.OpLiteral:
		s, ok := asciiLit(r)
		if !ok {
			return in, false, true
		}
		if r.Flags&syntax.FoldCase == 0 {
			s = toLowerASCII(s) // keywords match case-insensitively
		}
		for _, p := range in {
			out = append(out, p+s)
		}
		return out, true, true
	case syntax.OpCharClass:
		// [Aa]: one letter in both cases.
		if len(r.Rune) == 4 && r.Rune[0] == r.Rune[1] && r.Rune[2] == r.Rune[3] && r.Rune[0] < 0x80 && r.Rune[2] < 0x80 &&
			lowerTab[byte(r.Rune[0])] == lowerTab[byte(r.Rune[2])] {
			c := string(lowerTab[byte(r.Rune[0])])
			for _, p := range in {
				out = append(out, p+c)
			}
			return out, true, true
		}
		// A small class ([_-]) branches, each member a literal.
		if n := classSize(r.Rune); n > 0 && n <= 4 && len(in)*n <= maxPrefixes {
			for _, p := range in {
				for i := 0; i < len(r.Rune); i += 2 {
					for c := r.Rune[i]; c <= r.Rune[i+1]; c++ {
						out = append(out, p+string(lowerTab[byte(c)]))
					}
				}
			}
			return dedupe(out), true, true
		}
		return in, false, true
	case syntax.OpCapture:
		return prefixes(r.Sub[0], in)
	case syntax.OpConcat:
		cur := in
		for _, s := range r.Sub {
			if isZeroWidth(s) {
				continue
			}
			next, open, ok := prefixes(s, cur)
			if !ok {
				return nil, false, false
			}
			cur = next
			if !open {
				return cur, false, true
			}
		}
		return cur, true, true
	case syntax.OpAlternate, syntax.OpQuest:
		subs := r.Sub
		if r.Op == syntax.OpQuest {
			subs = []*syntax.Regexp{r.Sub[0], {Op: syntax.OpEmptyMatch}}
		}
		allOpen := true
		for _, s := range subs {
			next, open, ok := prefixes(s, in)
			if !ok {
				return nil, false, false
			}
			allOpen = allOpen && open
			out = append(out, next...)
			if len(out) > maxPrefixes {
				return nil, false, false
			}
		}
		// Branches that ended early keep their (shorter) prefixes; the
		// caller extends only when every branch was all literal.
		return out, allOpen, true
	case syntax.OpEmptyMatch:
		return in, true, true
	}
	return in, false, true
}

// anchoredByKeywords reports whether every prefix starts with one of the
// keywords, so a match can only start at a keyword hit.
func anchoredByKeywords(prefixes, keywords []string) bool {
	if len(keywords) == 0 || len(prefixes) == 0 {
		return false
	}
	for _, p := range prefixes {
		ok := false
		for _, kw := range keywords {
			kw = toLowerASCII(kw)
			if len(kw) <= len(p) && p[:len(kw)] == kw {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// classSize is the number of runes of an ASCII class, 0 if it has others.
func classSize(ranges []rune) int {
	n := 0
	for i := 0; i+1 < len(ranges); i += 2 {
		if ranges[i+1] >= 0x80 {
			return 0
		}
		n += int(ranges[i+1]-ranges[i]) + 1
	}
	return n
}

func dedupe(ss []string) []string {
	out := ss[:0]
	seen := map[string]bool{}
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// contains reports whether re or a part of it is one of ops.
func contains(re *syntax.Regexp, ops ...syntax.Op) bool {
	for _, op := range ops {
		if re.Op == op {
			return true
		}
	}
	for _, sub := range re.Sub {
		if contains(sub, ops...) {
			return true
		}
	}
	return false
}

func hasAlternate(re *syntax.Regexp) bool { return contains(re, syntax.OpAlternate) }
func hasCapture(re *syntax.Regexp) bool   { return contains(re, syntax.OpCapture) }
func hasAnyChar(re *syntax.Regexp) bool {
	return contains(re, syntax.OpAnyChar, syntax.OpAnyCharNotNL)
}
