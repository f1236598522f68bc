package secrets_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	. "github.com/sandwatch/sandwatch/processor/scrubprocessor/internal/secrets"
)

// Tokens glued to word characters, which \b anchors miss: pasted into an
// identifier, concatenated without a separator, or followed by more text.
func TestGluedTokens(t *testing.T) {
	s := mustScanner(t, Options{})
	tokens := []string{
		"ghp_" + strings.Repeat("aB3d", 9),
		"github_pat_" + strings.Repeat("A1b2C3d4e5", 8) + "Zz",
		"sk_live_" + strings.Repeat("Xy7Q", 8),
		"npm_" + strings.Repeat("k9Lm", 9),
		"AKIA" + "Q7ZLMN2XJ4RT6VWY",
		"xoxb-1234567890-1234567890123-" + strings.Repeat("aZ9", 8),
		"glpat-" + strings.Repeat("xY7_", 5),
		"hf_" + strings.Repeat("AbCdEfGhIj", 3) + "KlMn",
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlX2hlcmVfMTIzNDU2",
	}
	for _, tok := range tokens {
		for _, v := range []string{
			"id" + tok,           // glued before
			tok + "suffix",       // glued after
			"pre_" + tok + "_99", // glued both sides
			"token" + tok + "\n", // in a key name
		} {
			out, changed := s.Scan(v, nil)
			assert.True(t, changed, "%q not redacted", v)
			assert.NotContains(t, out, tok, "%q -> %q", v, out)
		}
	}
}
