package secrets

import (
	"encoding/base64"
	"fmt"
	"math"
	"regexp"
	"regexp/syntax"
	"strings"
)

// gitleaksAssign is the key/value separator of gitleaks' generic rules.
const gitleaksAssign = `(?:=|>|:{1,3}=|\|\||:|=>|\?=|,)`

// Rule describes one credential type.
type Rule struct {
	// Name is the rule's identifier; it appears in markers
	// ([REDACTED:name]) and in the redaction counter, so it is low
	// cardinality by construction.
	Name string
	// Regex (RE2) finds the credential. When it has a group named "s",
	// only that group is replaced (the secret of key=secret); otherwise
	// the whole match is.
	Regex string
	// Keywords (ASCII case-insensitive) gate the regex: it runs on a value
	// only when one of them occurs there. A rule without keywords runs on
	// every value (slow; user rules only).
	Keywords []string
	// Entropy is the minimum Shannon entropy (bits per byte) the secret
	// must reach; 0 disables the check. Used for generic formats.
	Entropy float64

	// find replaces Regex for built-in rules whose format is cheaper to
	// recognise by hand (URL userinfo). It returns the first secret at or
	// after off and where to continue; ok is false when there is none.
	find func(v string, off int) (start, end, next int, ok bool)
	// check, when set, must accept the secret (e.g. a base64 that decodes
	// to user:password).
	check func(secret string) bool
	// firstGroup: the secret is the first non-empty capture group
	// (gitleaks' rules), not the group named s.
	firstGroup bool
	// secretGroup, when positive, is the index of the secret's group.
	secretGroup int
}

type compiledRule struct {
	Rule
	re    *regexp.Regexp
	group int // submatch index of the secret; 0 = whole match
	// seq, when set, replaces the regex: a matcher compiled from it that
	// runs at each keyword hit.
	seq []*seqMatcher
	// width is the regex's longest match (-1 unbounded): a match holding
	// a keyword hit lies within width bytes of it, so the regex runs on
	// that window only.
	width int
	// anch, when set, is the (lean) regex anchored at its start: every
	// match starts at a keyword hit, so it runs at each hit.
	anch *regexp.Regexp
	// assign: the regex needs a key/value separator after the keyword, so
	// a hit with none after it is skipped without running the regex.
	assign bool
}

func compileRule(r Rule) (compiledRule, error) {
	if r.Name == "" {
		return compiledRule{}, fmt.Errorf("rule without a name; give every rule a name such as \"acme-token\"")
	}
	if strings.ContainsAny(r.Name, "[]:\n ") {
		return compiledRule{}, fmt.Errorf("rule %q: the name must not contain spaces, ':' or brackets (it is printed inside markers)", r.Name)
	}
	cr := compiledRule{Rule: r}
	if r.find != nil {
		return cr, nil
	}
	if r.Regex == "" {
		return compiledRule{}, fmt.Errorf("rule %q: regex is empty", r.Name)
	}
	re, err := regexp.Compile(r.Regex)
	if err != nil {
		return compiledRule{}, fmt.Errorf("rule %q: regex does not compile as RE2: %w", r.Name, err)
	}
	if re.MatchString("") {
		return compiledRule{}, fmt.Errorf("rule %q: regex %q matches the empty string; it would redact everything", r.Name, r.Regex)
	}
	leanExpr := leanRegex(r.Regex)
	if lean, err := regexp.Compile(leanExpr); err == nil && !lean.MatchString("") && lean.NumSubexp() == re.NumSubexp() {
		re = lean
		// A match that can only start at a keyword hit is tried there,
		// anchored: the regex then reads the match, not the value.
		if ast, err := syntax.Parse(leanExpr, syntax.Perl); err == nil {
			if ps, ok := literalPrefixes(ast); ok && anchoredByKeywords(ps, r.Keywords) {
				cr.anch = regexp.MustCompile(`^(?:` + leanExpr + `)`)
			}
		}
	}
	cr.re = re
	if i := re.SubexpIndex("s"); i > 0 {
		cr.group = i
	}
	if r.secretGroup > 0 && r.secretGroup <= re.NumSubexp() {
		cr.group = r.secretGroup
	}
	seqGroup := cr.group
	if r.firstGroup && re.NumSubexp() > 0 {
		seqGroup = -1
	}
	if seqGroup >= 0 || re.NumSubexp() == 1 {
		cr.seq = compileSeqs(r.Regex, seqGroup, r.Keywords)
	}
	cr.width = -1
	anyChar := true
	if ast, err := syntax.Parse(r.Regex, syntax.Perl); err == nil {
		cr.width, anyChar = maxLen(ast), hasAnyChar(ast)
	}
	if anyChar || !keywordsInRegex(r) {
		// gitleaks' keywords need only occur in the fragment (airtable
		// for a pat... token; hooks.slack.com where the regex has
		// hooks.slack.com with any byte for the dots): the regex runs on
		// the whole value.
		cr.width = -1
	}
	// Gate assignment-shaped rules, unless a '.' lets any byte stand
	// between key and separator (MailchimpSDK.initialize).
	hasSep := strings.Contains(r.Regex, gitleaksAssign) || strings.Contains(r.Regex, assign)
	cr.assign = !anyChar && hasSep && (cr.anch != nil || keywordsBefore(r, gitleaksAssign) || keywordsBefore(r, assign))
	for _, kw := range r.Keywords {
		if kw == "" {
			return compiledRule{}, fmt.Errorf("rule %q: empty keyword; remove it or give the literal text the secret always contains", r.Name)
		}
	}
	if r.Entropy < 0 || r.Entropy > 8 {
		return compiledRule{}, fmt.Errorf("rule %q: entropy %v out of range; use 0 (off) up to 8 bits per byte (3.5 suits random tokens)", r.Name, r.Entropy)
	}
	return cr, nil
}

func keywordsInRegex(r Rule) bool {
	src := toLowerASCII(r.Regex)
	for _, kw := range r.Keywords {
		if !strings.Contains(src, toLowerASCII(kw)) {
			return false
		}
	}
	return true
}

// keywordsBefore: the regex has the separator sep and every keyword
// occurs before it (a key name, not a value prefix such as live_).
func keywordsBefore(r Rule, sep string) bool {
	i := strings.Index(r.Regex, sep)
	if i < 0 || len(r.Keywords) == 0 {
		return false
	}
	key := toLowerASCII(r.Regex[:i])
	for _, kw := range r.Keywords {
		if !strings.Contains(key, toLowerASCII(kw)) {
			return false
		}
	}
	return true
}

// assignedValue returns where the value of a key/value assignment starts
// when a separator follows the keyword ending at i, past at most 256 bytes
// (maxKeyGap) of key characters, quotes and spaces (what every assignment-shaped rule
// requires), or -1 when none does.
func assignedValue(v string, i int) int {
	for n := 0; i < len(v) && n < maxKeyGap; i, n = i+1, n+1 {
		switch c := v[i]; {
		case c == '=' || c == ':' || c == '>' || c == '|' || c == ',' || c == '?':
			for i < len(v) && isSepOrQuote(v[i]) {
				i++
			}
			return i
		case wordClass.has(c) || c == '.' || c == '-' || c == ' ' || c == '\t' || c == '\'' || c == '"' || c == '\n' || c == '\r':
		default:
			return -1
		}
	}
	return -1
}

// maxKeyGap bounds the look for a separator after a keyword. The regexes
// allow any run of key characters and blanks there ([a-z_]*\s*); a
// longer gap than this is not how keys are written, and the bound keeps a
// value made of keywords linear.
const maxKeyGap = 256

func isSepOrQuote(c byte) bool {
	switch c {
	case '=', ':', '>', '|', ',', '?', '\'', '"', '`', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

// shannon returns the entropy of s in bits per byte.
func shannon(s string) float64 {
	if s == "" {
		return 0
	}
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	n := float64(len(s))
	h := 0.0
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

// basicCredential accepts a base64 value that decodes to user:password.
func basicCredential(s string) bool {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
		if err != nil {
			return false
		}
	}
	return strings.IndexByte(string(b), ':') > 0
}

// findURLPassword finds the password of scheme://user:password@host
// (database connection strings included) without a regex: it runs on
// every value holding "://", which is most URLs.
func findURLPassword(v string, off int) (start, end, next int, ok bool) {
	for off < len(v) {
		i := strings.Index(v[off:], "://")
		if i < 0 {
			return 0, 0, len(v), false
		}
		p := off + i + 3
		colon, at := -1, -1
		for p < len(v) {
			c := v[p]
			if c == '/' || c == '?' || c == '#' || c == ' ' || c == '\t' || c == '\n' || c == '"' || c == '\'' || c == '<' || c == '>' {
				break
			}
			if c == ':' && colon < 0 && at < 0 {
				colon = p
			}
			if c == '@' {
				at = p // the last '@' ends the userinfo
			}
			p++
		}
		if colon >= 0 && at > colon+1 {
			return colon + 1, at, p, true
		}
		off = p
	}
	return 0, 0, len(v), false
}
