package secrets_test

import (
	"testing"

	. "github.com/sandwatch/sandwatch/processor/scrubprocessor/internal/secrets"
)

// BenchmarkScan: a value with no keyword hit must not allocate; a URL
// (hits the "://" keyword, hand-coded check) must not either.
func BenchmarkScan(b *testing.B) {
	s, _ := New(Options{})
	for _, c := range []struct{ name, v string }{
		{"no-keyword-path", "/workspace/project/src/module-3/index.ts"},
		{"no-keyword-sql", "SELECT id, total FROM orders WHERE customer_id = 5 AND status = 'open' LIMIT 50"},
		{"url-no-secret", "https://api.weather.example.com/v1/forecast/1003?units=metric&lang=en"},
		{"github-pat", "push with ghp_0123456789abcdefABCDEF0123456789abcd ok"},
		// Agent tool arguments: a JSON document (each string also read on
		// its own), and one with escapes (read decoded as well).
		{"json-args", `{"tool_name":"read_text_file","arguments":{"path":"/workspace/project/src/index.ts","head":40}}`},
		{"json-args-escaped", `{"tool_name":"fetch","arguments":{"url":"https:\/\/docs.example.org\/v1\/page","note":"line1\nline2"}}`},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.v)))
			for b.Loop() {
				s.Scan(c.v, nil)
			}
		})
	}
}
