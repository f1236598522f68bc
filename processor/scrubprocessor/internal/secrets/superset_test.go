package secrets_test

import (
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	. "github.com/sandwatch/sandwatch/processor/scrubprocessor/internal/secrets"
	"github.com/sandwatch/sandwatch/processor/scrubprocessor/scrubtest"
)

// What scrub runs (sequence matchers, lean and anchored regexes, keyword
// windows) must redact at least what each rule's regex, as written,
// finds: strings generated from every built-in rule's syntax tree, the
// rule alone, the written regex the judge.
func TestCompiledRulesCoverTheirRegex(t *testing.T) {
	samplesPerRule := 30
	if testing.Short() {
		samplesPerRule = 5
	}
	if n, err := strconv.Atoi(os.Getenv("SCRUB_SUPERSET_SAMPLES")); err == nil {
		samplesPerRule = n // a longer hunt: SCRUB_SUPERSET_SAMPLES=2000
	}
	g := scrubtest.NewRegexGen(7)
	checked := 0
	for _, r := range Builtin() {
		if r.Regex == "" || r.Name == "basic-auth" { // hand-coded, or a decode check
			continue
		}
		s := mustScanner(t, Options{NoBuiltin: true, Rules: []Rule{r}})
		full := regexp.MustCompile(r.Regex)
		ast, err := scrubtest.ParseRegex(r.Regex)
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k < samplesPerRule; k++ {
			text := g.Sample(ast, k)
			if !hasKeyword(text, r.Keywords) {
				text = r.Keywords[k%len(r.Keywords)] + " token: " + text
			}
			out, _ := s.Scan(text, nil)
			for _, sec := range writtenSecrets(full, SecretGroupOf(r), text, r.Entropy) {
				checked++
				if strings.Count(out, sec) >= strings.Count(text, sec) {
					t.Errorf("%s: %q found by the regex in %q survives: %q", r.Name, sec, text, out)
				}
			}
		}
	}
	t.Logf("%d secrets checked", checked)
}

// writtenSecrets: the secrets the regex as written finds, the group named
// s or numbered group, else the first non-empty group, above the entropy
// floor.
func writtenSecrets(re *regexp.Regexp, group int, text string, floor float64) []string {
	var out []string
	if i := re.SubexpIndex("s"); i > 0 {
		group = i
	}
	for _, m := range re.FindAllStringSubmatchIndex(text, -1) {
		st, en := m[0], m[1]
		if group > 0 {
			st, en = m[2*group], m[2*group+1]
		} else {
			for g := 1; 2*g+1 < len(m); g++ {
				if m[2*g] >= 0 && m[2*g+1] > m[2*g] {
					st, en = m[2*g], m[2*g+1]
					break
				}
			}
		}
		if st < 0 || en <= st || entropy(text[st:en]) <= floor {
			continue
		}
		out = append(out, text[st:en])
	}
	return out
}

func hasKeyword(text string, kws []string) bool {
	lower := strings.ToLower(text)
	for _, kw := range kws {
		if strings.Contains(lower, strings.ToLower(kw)) {
			return true
		}
	}
	return false
}

func entropy(s string) float64 {
	var n [256]float64
	for i := 0; i < len(s); i++ {
		n[s[i]]++
	}
	h := 0.0
	for _, c := range n {
		if c > 0 {
			p := c / float64(len(s))
			h -= p * math.Log2(p)
		}
	}
	return h
}
