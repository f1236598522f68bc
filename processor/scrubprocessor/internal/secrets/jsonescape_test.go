package secrets_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	. "github.com/sandwatch/sandwatch/processor/scrubprocessor/internal/secrets"
)

// A credential written with JSON escapes, as a JSON encoder may write any
// character, is found and redacted, and the JSON stays valid.
func TestJSONEscapedSecrets(t *testing.T) {
	s := mustScanner(t, Options{})
	aws := "AKIA" + "Q7ZLMN2XJ4RT6VWY"
	ghp := "ghp_" + strings.Repeat("aB3d", 9)
	for _, tc := range []struct{ name, in, secret string }{
		{"u-escaped first letter", `{"arguments":{"key":"\u0041KIAQ7ZLMN2XJ4RT6VWY"}}`, aws},
		{"every letter u-escaped", `{"key":"` + uEscapeAll(aws) + `"}`, aws},
		{"upper-case hex", `{"key":"\u0041\u004BIAQ7ZLMN2XJ4RT6VWY"}`, aws},
		{"escaped slash in a URL", `{"url":"https:\/\/x:` + ghp + `@github.com\/o\/r"}`, ghp},
		{"token after escaped slashes", `{"result":"token=` + ghp + ` path=\/home\/a"}`, ghp},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, changed := s.Scan(tc.in, nil)
			require.True(t, changed, "%s not redacted", tc.in)
			assert.NotContains(t, out, tc.secret)
			assert.NotContains(t, out, uEscapeAll(tc.secret))
			assert.True(t, json.Valid([]byte(out)), "not valid JSON: %s", out)
			var v any
			require.NoError(t, json.Unmarshal([]byte(out), &v))
			assert.NotContains(t, asJSON(t, v), tc.secret, "not even once decoded")
		})
	}
}

// Escapes that decode to nothing secret change nothing: the value is
// returned as it came, escapes included, and an escaped backslash is not
// read as the start of an escape.
func TestJSONEscapesWithoutSecretsUnchanged(t *testing.T) {
	s := mustScanner(t, Options{})
	for _, in := range []string{
		`{"path":"\/workspace\/notes.md","q":"caf\u00e9 \u0041"}`,
		`{"literal":"\\u0041KIAQ7ZLMN2XJ4RT6VWY is not a key"}`,
		`\u00`, `\`, `\u004`, `{"x":"\"quoted\" \u0022"}`,
	} {
		out, changed := s.Scan(in, nil)
		if in == `{"literal":"\\u0041KIAQ7ZLMN2XJ4RT6VWY is not a key"}` {
			// The text is the 6 characters \u0041 then KIA...: no key.
			assert.False(t, changed, in)
		}
		if !changed {
			assert.Equal(t, in, out)
		}
	}
}

func uEscapeAll(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		b.WriteString(`\u00`)
		b.WriteByte("0123456789abcdef"[c>>4])
		b.WriteByte("0123456789abcdef"[c&15])
	}
	return b.String()
}

func asJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// FuzzScanJSONStaysValid: whatever a JSON document holds (secrets, escapes,
// nested JSON), what Scan returns for it is still valid JSON.
func FuzzScanJSONStaysValid(f *testing.F) {
	s := mustScanner(f, Options{})
	for _, seed := range []string{
		"AKIAQ7ZLMN2XJ4RT6VWY", `\u0041KIAQ7ZLMN2XJ4RT6VWY`, "curl\n-u 'user:passw0rd123'",
		`{"type": "service_account", "private_key_id": "958dfade7f107f06bc450b03167d202b1025a1dc"}`,
		"https://u:ghp_" + strings.Repeat("aB3d", 9) + "@github.com/x", "PuTTY-User-Key-File-3: ssh-rsa\nPrivate-Lines: 1\nAAAA\nPrivate-MAC: 0123",
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	f.Fuzz(func(t *testing.T, text string, escapeAll bool) {
		raw, err := json.Marshal(map[string]any{"arguments": map[string]any{"content": text, "path": "/w/a"}})
		if err != nil {
			return
		}
		doc := string(raw)
		if escapeAll { // every ASCII letter of the text written as \u00XX
			doc = strings.Replace(doc, mustJSON(text), `"`+uEscapeAll(asciiLetters(text))+`"`, 1)
		}
		if !json.Valid([]byte(doc)) {
			return
		}
		out, _ := s.Scan(doc, nil)
		if !json.Valid([]byte(out)) {
			t.Fatalf("not valid JSON after scrub:\n in: %s\nout: %s", doc, out)
		}
	})
}

func mustJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func asciiLetters(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			b.WriteByte(c)
		}
	}
	return b.String()
}
