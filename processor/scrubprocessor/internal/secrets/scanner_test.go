package secrets_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	. "github.com/sandwatch/sandwatch/processor/scrubprocessor/internal/secrets"
	"github.com/sandwatch/sandwatch/processor/scrubprocessor/scrubtest"
)

func mustScanner(t testing.TB, opts Options) *Scanner {
	t.Helper()
	s, err := New(opts)
	require.NoError(t, err)
	return s
}

func TestBuiltinCoversOverHundredTypes(t *testing.T) {
	s := mustScanner(t, Options{})
	assert.GreaterOrEqual(t, s.NumRules(), 100)
}

// Every built-in rule catches 20 random, format-valid samples, and the
// marker names that rule (or, for overlapping formats, another rule;
// what matters is that no byte of the secret survives).
func TestEveryRuleRedactsItsFormat(t *testing.T) {
	s := mustScanner(t, Options{})
	samples, missing := scrubtest.Samples(scrubtest.NewGen(1), s.RuleNames(), 20)
	// Rules ported from gitleaks are sampled from their regexes by the
	// gitleaks-parity module; every other rule needs a generator.
	require.ElementsMatch(t, GitleaksRuleNames(), missing, "every built-in rule needs a sample generator")
	for _, sm := range samples {
		out, changed := s.Scan(sm.Text, nil)
		if !assert.True(t, changed, "%s: %q not redacted", sm.Rule, sm.Text) {
			continue
		}
		assert.NotContains(t, out, sm.Secret, sm.Rule)
		assert.Contains(t, out, "[REDACTED:", sm.Rule)
	}
}

// Each rule alone (the others disabled) still catches its samples, so the
// rule itself is right, not a neighbour.
func TestEachRuleAlone(t *testing.T) {
	all := Builtin()
	g := scrubtest.NewGen(2)
	ported := map[string]bool{}
	for _, n := range GitleaksRuleNames() {
		ported[n] = true
	}
	for _, r := range all {
		if ported[r.Name] {
			continue // the gitleaks-parity module covers these
		}
		t.Run(r.Name, func(t *testing.T) {
			s := mustScanner(t, Options{NoBuiltin: true, Rules: []Rule{r}})
			samples, _ := scrubtest.Samples(g, []string{r.Name}, 5)
			require.NotEmpty(t, samples)
			for _, sm := range samples {
				out, changed := s.Scan(sm.Text, nil)
				require.True(t, changed, "%q", sm.Text)
				assert.NotContains(t, out, sm.Secret)
				assert.Contains(t, out, "[REDACTED:"+r.Name+"]")
			}
		})
	}
}

func TestExactOutputs(t *testing.T) {
	s := mustScanner(t, Options{})
	tests := []struct{ in, want string }{
		{"postgres://app:hunter2pass@db:5432/x", "postgres://app:[REDACTED:url-password]@db:5432/x"},
		{"https://user:pa:ss@host/p?q=1", "https://user:[REDACTED:url-password]@host/p?q=1"},
		{"https://example.com/a?x=1&api_key=abc123&y=2", "https://example.com/a?x=1&api_key=[REDACTED:sensitive-query-param]&y=2"},
		{"Authorization: Bearer abcdefghijklmnop1234", "Authorization: [REDACTED:authorization-header]"},
		{"token ghp_" + strings.Repeat("a1B2", 9) + " end", "token [REDACTED:github-pat] end"},
		{"plain words, nothing to see", "plain words, nothing to see"},
		{"https://api.github.com/repos/acme/app/commits/0123456789abcdef0123456789abcdef01234567", "https://api.github.com/repos/acme/app/commits/0123456789abcdef0123456789abcdef01234567"},
		{"basic setup complete", "basic setup complete"},
		{"mailto:user@example.com", "mailto:user@example.com"},
	}
	for _, tc := range tests {
		out, _ := s.Scan(tc.in, nil)
		assert.Equal(t, tc.want, out, tc.in)
	}
}

func TestCountsAndFingerprint(t *testing.T) {
	s := mustScanner(t, Options{FingerprintKey: []byte("k"), FingerprintLen: 8})
	counts := make([]uint64, s.NumRules())
	tok := "ghp_" + strings.Repeat("Zx9", 12)
	out1, _ := s.Scan("a "+tok, counts)
	out2, _ := s.Scan("b "+tok+" c", counts)
	other, _ := s.Scan("a ghp_"+strings.Repeat("Qw8", 12), counts)
	i := indexOf(s.RuleNames(), "github-pat")
	assert.Equal(t, uint64(3), counts[i])
	fp := out1[len("a [REDACTED:github-pat:") : len(out1)-1]
	assert.Len(t, fp, 8)
	assert.Contains(t, out2, fp, "same secret, same fingerprint")
	assert.NotContains(t, other, fp)
}

func indexOf(xs []string, x string) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

func TestUserRulesAndAllowList(t *testing.T) {
	s := mustScanner(t, Options{
		Rules:       []Rule{{Name: "acme-key", Regex: `acme_[a-z0-9]{16}`, Keywords: []string{"acme_"}}},
		AllowValues: []string{"AKIAIOSFODNN7EXAMPLE"},
		Disable:     []string{"twilio-api-key", "twilio-api-key-gitleaks"},
	})
	out, _ := s.Scan("k=acme_0123456789abcdef", nil)
	assert.Equal(t, "k=[REDACTED:acme-key]", out)
	out, changed := s.Scan("docs example AKIAIOSFODNN7EXAMPLE", nil)
	assert.False(t, changed, out)
	_, changed = s.Scan("SK0123456789abcdef0123456789abcdef", nil)
	assert.False(t, changed)

	for _, bad := range []Options{
		{Rules: []Rule{{Name: "x", Regex: `(a`}}},
		{Rules: []Rule{{Name: "x", Regex: `a*`}}},
		{Rules: []Rule{{Name: "", Regex: `a`}}},
		{Rules: []Rule{{Name: "has space", Regex: `a`}}},
		{Rules: []Rule{{Name: "x", Regex: `(?=a)`}}}, // lookahead: not RE2
		{Disable: []string{"no-such-rule"}},
		{AllowValues: []string{"[a"}},
	} {
		_, err := New(bad)
		assert.Error(t, err)
	}
}

func TestEntropyGate(t *testing.T) {
	s := mustScanner(t, Options{})
	_, changed := s.Scan("client_secret = aaaaaaaaaaaaaaaaaaaa", nil)
	assert.False(t, changed, "low entropy generic value is not a secret")
	_, changed = s.Scan("client_secret = Zk3Q9vLp2Wm8Xr5Tn7Yb", nil)
	assert.True(t, changed)
}

func TestBenignNotRedacted(t *testing.T) {
	s := mustScanner(t, Options{})
	benign := scrubtest.Benign(scrubtest.NewGen(3), 2000)
	redacted := 0
	for _, v := range benign {
		if out, changed := s.Scan(v, nil); changed {
			redacted++
			t.Logf("over-redacted: %q -> %q", v, out)
		}
	}
	assert.Zero(t, redacted)
}

func TestNoKeywordHitDoesNotAllocate(t *testing.T) {
	s := mustScanner(t, Options{})
	vals := []string{"/workspace/notes/12/data.json", "SELECT id FROM orders WHERE id = 42", "0af7651916cd43dd8448eb211c80319c"}
	for _, v := range vals {
		n := testing.AllocsPerRun(100, func() { s.Scan(v, nil) })
		assert.Zero(t, n, v)
	}
}

func TestKeyPolicy(t *testing.T) {
	p, err := NewKeyPolicy(KeyOptions{Sensitive: []string{"*.ssn"}, Allow: []string{"app.token_hint"}})
	require.NoError(t, err)
	for k, want := range map[string]bool{
		"http.request.header.authorization": true,
		"http.request.header.x-api-key":     true,
		"Cookie":                            true,
		"db.password":                       true,
		"client_secret":                     true,
		"user.ssn":                          true,
		"gen_ai.usage.input_tokens":         false,
		"url.full":                          false,
		"file.path":                         false,
	} {
		assert.Equal(t, want, p.Sensitive(k), k)
	}
	assert.True(t, p.Allowed("app.token_hint"))
	assert.False(t, p.Allowed("app.token"))
}

func TestHostileInput(t *testing.T) {
	s := mustScanner(t, Options{})
	// 1 MiB of keyword-dense text with a secret at the end.
	big := strings.Repeat("token=password=Bearer eyJ ://x:y@ ", 1<<20/34)
	tok := "ghp_" + strings.Repeat("a1B2", 9)
	out, changed := s.Scan(big+tok, nil)
	assert.True(t, changed)
	assert.False(t, strings.Contains(out, tok))
	// Invalid UTF-8 around a secret.
	bad := "\xff\xfe" + tok + "\xc3"
	out, changed = s.Scan(bad, nil)
	assert.True(t, changed)
	assert.False(t, strings.Contains(out, tok))
	assert.False(t, utf8.ValidString(out)) // bytes outside the secret are kept
}

func FuzzScan(f *testing.F) {
	s := mustScanner(f, Options{})
	for _, seed := range []string{"", "ghp_" + strings.Repeat("x", 36), "postgres://a:b@c", "Bearer x", "\xff://:@", "-----BEGIN PRIVATE KEY-----abc"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		out, changed := s.Scan(v, nil)
		if !changed && out != v {
			t.Fatalf("unchanged but different: %q -> %q", v, out)
		}
		// Idempotent: scanning the output again finds nothing new to
		// hide except markers' neighbours; it must not panic either.
		s.Scan(out, nil)
	})
}

func TestKeyPolicyClassifyCached(t *testing.T) {
	p, err := NewKeyPolicy(KeyOptions{Allow: []string{"app.token_hint"}})
	require.NoError(t, err)
	for i := 0; i < 3; i++ { // first a miss, then hits
		for k, want := range map[string][2]bool{
			"http.request.header.authorization": {false, true},
			"app.token_hint":                    {true, true},
			"url.full":                          {false, false},
		} {
			a, s := p.Classify(k)
			assert.Equal(t, want, [2]bool{a, s}, k)
		}
	}
	assert.Zero(t, testing.AllocsPerRun(100, func() { p.Classify("url.full") }))
}
