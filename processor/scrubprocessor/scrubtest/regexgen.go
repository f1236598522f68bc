package scrubtest

import (
	"math/rand/v2"
	"regexp/syntax"
	"strings"
	"unicode"
)

// RegexGen generates strings a regular expression matches by walking its
// syntax tree. Sample k of a series picks, at every repeat, the minimum,
// the maximum (capped for unbounded ones), or a random count in
// between, and at every alternation a different branch, so a series of
// samples covers a rule's length ranges and alternatives; character
// classes are sampled per range, so every range of a class (digits,
// upper, lower, punctuation) appears in some sample, alone or mixed.
type RegexGen struct {
	r *rand.Rand
	// k is the index of the sample in its series.
	k int
	// UnboundedExtra caps x* and x+ at min+UnboundedExtra.
	UnboundedExtra int
}

// NewRegexGen returns a generator seeded with seed.
func NewRegexGen(seed uint64) *RegexGen {
	return &RegexGen{r: rand.New(rand.NewPCG(seed, seed^0x7a11ea5)), UnboundedExtra: 40}
}

// ParseRegex parses a rule's (Go RE2, Perl flags) regex for RegexGen.
func ParseRegex(expr string) (*syntax.Regexp, error) {
	return syntax.Parse(expr, syntax.Perl)
}

// Sample returns the k-th sample of re.
func (g *RegexGen) Sample(re *syntax.Regexp, k int) string {
	g.k = k
	var b strings.Builder
	g.walk(re, &b, 0)
	return b.String()
}

func (g *RegexGen) count(min, max int) int {
	if max < 0 {
		max = min + g.UnboundedExtra
	}
	if max <= min {
		return min
	}
	switch g.k % 4 {
	case 0:
		return min
	case 1:
		return max
	default:
		return min + g.r.IntN(max-min+1)
	}
}

func (g *RegexGen) walk(re *syntax.Regexp, b *strings.Builder, depth int) {
	switch re.Op {
	case syntax.OpLiteral:
		for _, c := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 && g.r.IntN(2) == 0 {
				c = swapCase(c)
			}
			b.WriteRune(c)
		}
	case syntax.OpCharClass:
		b.WriteRune(g.classRune(re.Rune, -1))
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		// Mostly '.', which is what an unescaped dot in a host name
		// (hooks.slack.com) stands for.
		if g.r.IntN(2) == 0 {
			b.WriteByte('.')
		} else {
			b.WriteByte(byte(0x21 + g.r.IntN(0x7e-0x21+1)))
		}
	case syntax.OpCapture:
		g.walk(re.Sub[0], b, depth+1)
	case syntax.OpConcat:
		for _, s := range re.Sub {
			g.walk(s, b, depth+1)
		}
	case syntax.OpAlternate:
		// Vary the branch with the sample index, mixed by depth so
		// sibling alternations do not move in lockstep.
		i := (g.k + depth + g.r.IntN(len(re.Sub))) % len(re.Sub)
		if g.k%2 == 0 {
			i = (g.k / 2) % len(re.Sub)
		}
		g.walk(re.Sub[i], b, depth+1)
	case syntax.OpStar:
		g.repeat(re.Sub[0], g.count(0, -1), b, depth)
	case syntax.OpPlus:
		g.repeat(re.Sub[0], g.count(1, -1), b, depth)
	case syntax.OpQuest:
		g.repeat(re.Sub[0], g.count(0, 1), b, depth)
	case syntax.OpRepeat:
		g.repeat(re.Sub[0], g.count(re.Min, re.Max), b, depth)
	default:
		// Anchors, word boundaries and empty matches produce no text.
	}
}

// repeat writes n copies of sub. When sub is a character class, the
// series alternates between runs drawn from one range of the class and
// runs mixing all of them.
func (g *RegexGen) repeat(sub *syntax.Regexp, n int, b *strings.Builder, depth int) {
	if sub.Op == syntax.OpCharClass && g.k%3 == 2 && len(sub.Rune) > 2 {
		rng := g.r.IntN(len(sub.Rune) / 2)
		for i := 0; i < n; i++ {
			b.WriteRune(g.classRune(sub.Rune, rng))
		}
		return
	}
	for i := 0; i < n; i++ {
		g.walk(sub, b, depth+1)
	}
}

// classRune picks a rune of the class (pairs of lo, hi), from range only
// when only >= 0. Printable ASCII is preferred: credentials are ASCII, and
// a negated class (any byte but quotes) would otherwise yield mostly
// unassigned code points.
func (g *RegexGen) classRune(ranges []rune, only int) rune {
	type span struct{ lo, hi rune }
	var ascii []span
	for i := 0; i+1 < len(ranges); i += 2 {
		if only >= 0 && i/2 != only {
			continue
		}
		lo, hi := ranges[i], ranges[i+1]
		if lo == hi && (lo == 0x17F || lo == 0x212A) {
			// ſ and K: (?i) adds them to s and k; they are Go's case
			// folding, not credential text.
			continue
		}
		if lo < 0x20 {
			// Keep whitespace, which key/value separators use.
			for _, c := range []rune{'\t', '\n', '\r'} {
				if lo <= c && c <= hi {
					ascii = append(ascii, span{c, c})
				}
			}
			lo = 0x20
		}
		if hi > 0x7e {
			hi = 0x7e
		}
		if lo <= hi {
			ascii = append(ascii, span{lo, hi})
		}
	}
	if len(ascii) == 0 {
		if only >= 0 {
			return g.classRune(ranges, -1)
		}
		lo, hi := ranges[0], ranges[1]
		return lo + rune(g.r.IntN(int(hi-lo)+1))
	}
	s := ascii[g.r.IntN(len(ascii))]
	return s.lo + rune(g.r.IntN(int(s.hi-s.lo)+1))
}

func swapCase(c rune) rune {
	if unicode.IsUpper(c) {
		return unicode.ToLower(c)
	}
	return unicode.ToUpper(c)
}
