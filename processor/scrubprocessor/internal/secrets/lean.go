package secrets

import "regexp/syntax"

// leanRegex rewrites a rule's regex for scanning: what only constrains
// the context of the secret is dropped (optional text and \b before the
// first mandatory part, such as gitleaks' [\w.-]{0,50}? before the key
// name; a terminator after the secret group, or a trailing \b), and a long bounded run of one
// class, x{10,150}, becomes unbounded, x{10,}. Go's regexp simulates one
// state per repetition, so these bounds are what makes a rule cost tens
// of microseconds per value; without them it matches a superset, which
// for a redactor is the safe side. Capture groups keep their numbers.
func leanRegex(expr string) string {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return expr
	}
	if re.Op == syntax.OpConcat {
		subs := re.Sub
		hexToken := false
		for len(subs) > 1 && !hasCapture(subs[0]) && (isZeroWidth(subs[0]) || minLen(subs[0]) == 0) {
			if subs[0].Op == syntax.OpWordBoundary && hexLiteral(&syntax.Regexp{Op: syntax.OpConcat, Sub: subs[1:]}) {
				hexToken = true // glued to more text, a hex prefix is part of a hash
				break
			}
			subs = subs[1:]
		}
		if hexToken {
			// keep the context on both sides
		} else if last := lastCapture(subs); last >= 0 && last < len(subs)-1 {
			// Unless the secret alternates: then what follows decides
			// the branch ([\w.=-]{10,}|[a-z0-9+/]{11,} takes the second
			// for a base64 value only because a terminator must follow).
			if !hasAlternate(subs[last]) {
				subs = subs[:last+1]
			}
		} else if last < 0 {
			// A whole-match rule: a trailing \b or $ only refuses a
			// token glued to more text.
			for len(subs) > 1 && isContext(subs[len(subs)-1]) {
				subs = subs[:len(subs)-1]
			}
		}
		re.Sub = subs
	}
	unbound(re)
	return re.String()
}

const longRun = 32

func unbound(re *syntax.Regexp) {
	if re.Op == syntax.OpRepeat && re.Max > longRun {
		switch re.Sub[0].Op {
		case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL, syntax.OpLiteral:
			re.Max = -1
		}
	}
	for _, s := range re.Sub {
		unbound(s)
	}
}

func hasAlternate(re *syntax.Regexp) bool {
	if re.Op == syntax.OpAlternate {
		return true
	}
	for _, s := range re.Sub {
		if hasAlternate(s) {
			return true
		}
	}
	return false
}

func hasCapture(re *syntax.Regexp) bool {
	if re.Op == syntax.OpCapture {
		return true
	}
	for _, s := range re.Sub {
		if hasCapture(s) {
			return true
		}
	}
	return false
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

const maxPrefixes = 64

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
