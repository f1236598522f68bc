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
