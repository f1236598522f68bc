package secrets

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The speed design holds: the common credential formats compile to
// sequence matchers, gitleaks' generic rules run anchored behind the
// separator gate, and nothing falls back to a whole-value regex by
// accident.
func TestRulesCompileToTheirFastForms(t *testing.T) {
	s, err := New(Options{})
	require.NoError(t, err)
	byName := map[string]*compiledRule{}
	seqs, anchored := 0, 0
	for i := range s.rules {
		cr := &s.rules[i]
		byName[cr.Name] = cr
		if cr.seq != nil {
			seqs++
		}
		if cr.anch != nil {
			anchored++
		}
	}
	assert.GreaterOrEqual(t, seqs, 140)
	assert.GreaterOrEqual(t, anchored, 60)
	for _, n := range []string{"github-pat", "github-fine-grained-pat-gitleaks", "stripe-secret-key", "jwt", "bearer-token", "npm-token", "slack-bot-token", "vault-service-token-gitleaks"} {
		assert.NotNil(t, byName[n].seq, "%s: sequence matcher", n)
	}
	for _, n := range []string{"generic-api-key", "generic-secret", "adafruit-api-key"} {
		assert.NotNil(t, byName[n].anch, "%s: anchored", n)
		assert.True(t, byName[n].assign, "%s: separator gate", n)
	}
	assert.NotNil(t, byName["sensitive-query-param"].find)
}

func TestSequenceMatcher(t *testing.T) {
	m := compileSeq(`\bsk_(?:live|test)_[0-9A-Za-z]{24,99}`, 0)
	require.NotNil(t, m)
	assert.True(t, m.anchoredBy([]string{"sk_live_", "sk_test_"}))
	assert.False(t, m.anchoredBy([]string{"live_"}), "a keyword inside the token anchors nothing")
	tok := "sk_live_" + "aB3dEf6hIj9kLm2nOp5qRs8t"
	for v, want := range map[string]string{
		"key=" + tok + "&x=1": tok,
		"id" + tok + "_glued": tok + "_glued", // glued: the run is taken whole
		"sk_live_short":       "",
	} {
		st, en, ok := m.match(v, strings.Index(v, "sk_"))
		if want == "" {
			assert.False(t, ok, v)
			continue
		}
		require.True(t, ok, v)
		assert.Equal(t, want, v[st:en], v)
	}
	// Greedy runs never give bytes back, so an ambiguous shape is refused.
	assert.Nil(t, compileSeq(`ab[a-z_]{2,9}_[a-z]{3}`, 0))
	// A hex prefix keeps its word boundaries (4b1d... inside a digest).
	h := compileSeq(`\b(4b1d[A-Za-z0-9]{38})\b`, -1)
	require.NotNil(t, h)
	_, _, ok := h.match("sha256:aa4b1d"+"0123456789abcdef0123456789abcdef012345", 9)
	assert.False(t, ok)
}
