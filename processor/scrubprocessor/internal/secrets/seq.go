package secrets

import (
	"regexp/syntax"
	"unicode/utf8"
)

// seqMatcher is a rule compiled, from its regexp/syntax tree, into a
// sequence of literals and bounded runs of one byte class: the shape of
// most credential formats (a literal prefix, a run of [A-Za-z0-9] of some
// length, maybe a separator and a second run). It matches at a keyword
// hit without a regex engine and without allocating.
//
// The compilation keeps only what decides the secret. Context the regex
// demands around it (a leading \b, a lazy [\w.-]{0,50}? before the
// keyword, a terminator such as (?:[\x60'"\s;]|$) after the secret group)
// is dropped, which makes the matcher a superset of the regex: tokens
// glued to word characters on either side are caught too, and the
// redaction then extends over the glued run, since where a token glued to
// text ends is unknowable.
type seqMatcher struct {
	elems []seqElem
	// secret group bounds as element indexes: the secret spans elements
	// [capFrom, capTo); capFrom == capTo means the whole match.
	capFrom, capTo int
	// wordStart keeps the \b on both sides: the prefix is hex (4b1d...),
	// which occurs inside hashes and digests, so a glued match is no token.
	wordStart bool
}

type seqElem struct {
	lits     []string // alternatives (one for a plain literal); lowercase when fold
	fold     bool
	class    byteClass
	min, max int // for class runs; max < 0 = unbounded
}

// byteClass is a set of bytes.
type byteClass [4]uint64

func (c *byteClass) has(b byte) bool { return c[b>>6]&(1<<(b&63)) != 0 }
func (c *byteClass) add(b byte)      { c[b>>6] |= 1 << (b & 63) }
func (c *byteClass) empty() bool     { return c[0]|c[1]|c[2]|c[3] == 0 }
func (c *byteClass) intersects(o *byteClass) bool {
	return c[0]&o[0]|c[1]&o[1]|c[2]&o[2]|c[3]&o[3] != 0
}

var wordClass = func() (c byteClass) {
	for b := 0; b < 256; b++ {
		if syntax.IsWordChar(rune(b)) && b < 128 {
			c.add(byte(b))
		}
	}
	return c
}()

// compileSeqs compiles expr into sequence matchers anchored by the
// keywords: one, or one per branch of its first alternation (vault's
// hvs\.[\w-]{90,120}|s\.[a-z0-9]{24}), or nil when some branch has another
// shape.
func compileSeqs(expr string, group int, keywords []string) []*seqMatcher {
	if m := compileSeq(expr, group); m != nil {
		if m.anchoredBy(keywords) {
			return []*seqMatcher{m}
		}
		return nil
	}
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	var out []*seqMatcher
	for _, b := range branches(re) {
		m := compileSeq(b.String(), group)
		if m == nil || !m.anchoredBy(keywords) {
			return nil
		}
		out = append(out, m)
	}
	return out
}

// branches returns re once per branch of its first alternation that is
// not mere context (a terminator such as (?:[\x60'"\s;]|$)), the rest of
// re kept around it; nil when there is none.
func branches(re *syntax.Regexp) []*syntax.Regexp {
	switch re.Op {
	case syntax.OpAlternate:
		if isContext(re) {
			return nil
		}
		return re.Sub
	case syntax.OpCapture:
		var out []*syntax.Regexp
		for _, b := range branches(re.Sub[0]) {
			c := *re
			c.Sub = []*syntax.Regexp{b}
			out = append(out, &c)
		}
		return out
	case syntax.OpConcat:
		for i, sub := range re.Sub {
			bs := branches(sub)
			if bs == nil {
				continue
			}
			var out []*syntax.Regexp
			for _, b := range bs {
				c := *re
				c.Sub = append(append(append([]*syntax.Regexp(nil), re.Sub[:i]...), b), re.Sub[i+1:]...)
				out = append(out, &c)
			}
			return out
		}
	}
	return nil
}

// compileSeq returns nil when re has another shape; the rule then runs
// its regex on a window around the keyword hit. group is the secret
// group's index (0: none; -1: the first group, gitleaks' rule).
func compileSeq(expr string, group int) *seqMatcher {
	// Not simplified: Simplify spells x{24,99} as 24 copies and nested
	// optionals, where a counted run is what is wanted here.
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	var flat []*syntax.Regexp
	capFrom, capTo := -1, -1
	var flatten func(r *syntax.Regexp) bool
	flatten = func(r *syntax.Regexp) bool {
		switch r.Op {
		case syntax.OpConcat:
			for _, s := range r.Sub {
				if !flatten(s) {
					return false
				}
			}
			return true
		case syntax.OpCapture:
			secret := r.Cap == group || (group < 0 && r.Cap == 1)
			if secret {
				capFrom = len(flat)
			}
			if !flatten(r.Sub[0]) {
				return false
			}
			if secret {
				capTo = len(flat)
			}
			return true
		}
		flat = append(flat, r)
		return true
	}
	if !flatten(re) {
		return nil
	}
	if group != 0 && capFrom < 0 {
		return nil
	}
	// Drop context after the secret group, or a trailing boundary or
	// terminator of a whole-match rule.
	if capTo >= 0 {
		flat = flat[:capTo]
	} else {
		for len(flat) > 0 && isContext(flat[len(flat)-1]) {
			flat = flat[:len(flat)-1]
		}
	}
	// Drop leading anchors and optional context before the first
	// literal (it cannot decide whether a match exists).
	lead, wordStart := 0, false
	for lead < len(flat) && lead != capFrom && (isZeroWidth(flat[lead]) || minLen(flat[lead]) == 0) {
		if flat[lead].Op == syntax.OpWordBoundary && lead+1 < len(flat) && hexLiteral(&syntax.Regexp{Op: syntax.OpConcat, Sub: flat[lead+1:]}) {
			wordStart = true
		}
		lead++
	}
	flat = flat[lead:]
	if capFrom >= 0 {
		capFrom -= lead
		capTo -= lead
		if capFrom < 0 {
			return nil
		}
	}
	m := &seqMatcher{wordStart: wordStart}
	for _, r := range flat {
		e, ok := toElem(r)
		if !ok {
			return nil
		}
		m.elems = append(m.elems, e)
	}
	if len(m.elems) == 0 || m.elems[0].lits == nil {
		return nil // must start with a literal the keyword can anchor
	}
	if capFrom >= 0 {
		m.capFrom, m.capTo = capFrom, capTo
	}
	// Greedy runs never give bytes back, so a run of variable length must
	// not be followed by a byte it could also take.
	for i, e := range m.elems {
		if e.lits != nil || e.min == e.max {
			continue
		}
		if next := m.firstBytes(i + 1); next.intersects(&e.class) {
			return nil
		}
	}
	return m
}

func toElem(r *syntax.Regexp) (seqElem, bool) {
	switch r.Op {
	case syntax.OpLiteral:
		s, ok := asciiLit(r)
		return seqElem{lits: []string{s}, fold: r.Flags&syntax.FoldCase != 0}, ok
	case syntax.OpAlternate:
		e := seqElem{}
		for i, s := range r.Sub {
			if s.Op != syntax.OpLiteral {
				return e, false
			}
			l, ok := asciiLit(s)
			if !ok || (i > 0 && (s.Flags&syntax.FoldCase != 0) != e.fold) {
				return e, false
			}
			e.fold = s.Flags&syntax.FoldCase != 0
			e.lits = append(e.lits, l)
		}
		return e, true
	case syntax.OpCharClass, syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		c, ok := classOf(r)
		return seqElem{class: c, min: 1, max: 1}, ok
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		sub := r.Sub[0]
		var c byteClass
		switch sub.Op {
		case syntax.OpCharClass, syntax.OpAnyCharNotNL, syntax.OpAnyChar:
			var ok bool
			if c, ok = classOf(sub); !ok {
				return seqElem{}, false
			}
		case syntax.OpLiteral:
			if len(sub.Rune) != 1 || sub.Rune[0] >= utf8.RuneSelf {
				return seqElem{}, false
			}
			c.add(byte(sub.Rune[0]))
			if sub.Flags&syntax.FoldCase != 0 { // (?i) with = is just =
				c.add(lowerTab[byte(sub.Rune[0])])
				c.add(upperOf(byte(sub.Rune[0])))
			}
		default:
			return seqElem{}, false
		}
		e := seqElem{class: c}
		switch r.Op {
		case syntax.OpStar:
			e.min, e.max = 0, -1
		case syntax.OpPlus:
			e.min, e.max = 1, -1
		case syntax.OpQuest:
			e.min, e.max = 0, 1
		default:
			e.min, e.max = r.Min, r.Max
		}
		return e, true
	}
	return seqElem{}, false
}

func asciiLit(r *syntax.Regexp) (string, bool) {
	b := make([]byte, 0, len(r.Rune))
	for _, c := range r.Rune {
		if c >= utf8.RuneSelf {
			return "", false
		}
		b = append(b, byte(c))
	}
	if r.Flags&syntax.FoldCase != 0 {
		return toLowerASCII(string(b)), true
	}
	return string(b), true
}

// classOf converts a rune class to bytes. A class must hold all of the
// non-ASCII runes or none of them: a UTF-8 sequence is then in or out
// byte by byte.
func classOf(r *syntax.Regexp) (byteClass, bool) {
	var c byteClass
	ranges := r.Rune
	switch r.Op {
	case syntax.OpAnyChar:
		ranges = []rune{0, utf8.MaxRune}
	case syntax.OpAnyCharNotNL:
		ranges = []rune{0, '\n' - 1, '\n' + 1, utf8.MaxRune}
	}
	high := rune(utf8.RuneSelf)
	for i := 0; i+1 < len(ranges); i += 2 {
		lo, hi := ranges[i], ranges[i+1]
		if isFoldOnly(lo, hi) {
			continue
		}
		for x := lo; x <= hi && x < utf8.RuneSelf; x++ {
			c.add(byte(x))
		}
		if hi >= utf8.RuneSelf {
			if max(lo, utf8.RuneSelf) != high {
				return c, false // a gap among the non-ASCII runes
			}
			high = hi + 1
		}
	}
	switch high {
	case utf8.RuneSelf:
	case utf8.MaxRune + 1:
		for b := 0x80; b < 0x100; b++ {
			c.add(byte(b))
		}
	default:
		return c, false
	}
	return c, !c.empty()
}

// isFoldOnly: the non-ASCII runes (?i) adds to ASCII letters, the long s
// (ſ, U+017F) and the Kelvin sign (K, U+212A). A run of [a-z] under (?i)
// is taken as ASCII letters; tokens do not hold those two.
func isFoldOnly(lo, hi rune) bool {
	return (lo == 0x17F && hi == 0x17F) || (lo == 0x212A && hi == 0x212A)
}

// firstBytes is the set of bytes that can start the match of elems[i:].
func (m *seqMatcher) firstBytes(i int) byteClass {
	var out byteClass
	for ; i < len(m.elems); i++ {
		e := &m.elems[i]
		if e.lits != nil {
			for _, l := range e.lits {
				out.add(l[0])
				if e.fold {
					out.add(upperOf(l[0]))
				}
			}
			return out
		}
		for w := range out {
			out[w] |= e.class[w]
		}
		if e.min > 0 {
			return out
		}
	}
	return out
}

func upperOf(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// anchoredBy reports whether every match starts with one of the keywords,
// so that the keyword hits are all the positions a match can start at.
func (m *seqMatcher) anchoredBy(keywords []string) bool {
	prefixes := []string{""}
	for k := range m.elems {
		e := &m.elems[k]
		if e.lits == nil {
			break
		}
		var next []string
		for _, p := range prefixes {
			for _, l := range e.lits {
				next = append(next, p+toLowerASCII(l))
			}
		}
		if len(next) > 64 {
			break
		}
		prefixes = next
	}
	return anchoredByKeywords(prefixes, keywords)
}

// match tries a match starting at pos. It returns the bytes to redact
// (the secret group, or the whole match).
func (m *seqMatcher) match(v string, pos int) (start, end int, ok bool) {
	if m.wordStart && pos > 0 && wordClass.has(v[pos-1]) {
		return 0, 0, false
	}
	i := pos
	start, end = pos, -1
	last := len(m.elems) - 1
	for k := range m.elems {
		e := &m.elems[k]
		if k == m.capFrom && m.capTo > m.capFrom {
			start = i
		}
		if e.lits != nil {
			n := matchLits(v[i:], e.lits, e.fold)
			if n < 0 {
				return 0, 0, false
			}
			i += n
		} else {
			n := 0
			lim := len(v) - i
			if e.max >= 0 && e.max < lim {
				lim = e.max
			}
			for n < lim && e.class.has(v[i+n]) {
				n++
			}
			if n < e.min {
				return 0, 0, false
			}
			i += n
			if k == last && m.wordStart {
				// A hex token must end where a word ends, too.
				if i < len(v) && wordClass.has(v[i]) {
					return 0, 0, false
				}
			} else if k == last {
				// A token glued to more text: take the whole run.
				for i < len(v) && (e.class.has(v[i]) || wordClass.has(v[i])) {
					i++
				}
			}
		}
		if k+1 == m.capTo && m.capTo > m.capFrom {
			end = i
		}
	}
	if end < 0 {
		end = i
	}
	return start, end, end > start
}

// matchLits returns the length of the longest alternative at the start of
// s, or -1.
func matchLits(s string, lits []string, fold bool) int {
	best := -1
	for _, l := range lits {
		if len(l) <= best || len(s) < len(l) {
			continue
		}
		ok := true
		if fold {
			for j := 0; j < len(l); j++ {
				if lowerTab[s[j]] != l[j] {
					ok = false
					break
				}
			}
		} else {
			ok = s[:len(l)] == l
		}
		if ok {
			best = len(l)
		}
	}
	return best
}
