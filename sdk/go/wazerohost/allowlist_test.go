package wazerohost

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestAllowlistDecide(t *testing.T) {
	a, err := NewAllowlist([]string{"api.example.com", "*.cdn.example.net", "127.0.0.1", "Status.Example.ORG."})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		url  string
		want bool
		rule string
	}{
		{"https://api.example.com/v1?q=1", true, "api.example.com"},
		{"https://API.example.com:8443/", true, "api.example.com"},
		{"https://api.example.com./", true, "api.example.com"},
		{"https://evil.api.example.com/", false, ""},
		{"https://a.cdn.example.net/x", true, "*.cdn.example.net"},
		{"https://a.b.cdn.example.net/x", true, "*.cdn.example.net"},
		{"https://cdn.example.net/x", false, ""}, // the apex is not a subdomain
		{"https://xcdn.example.net/x", false, ""},
		{"http://127.0.0.1:8080/health", true, "127.0.0.1"},
		{"http://localhost:8080/health", false, ""},
		{"https://status.example.org/", true, "Status.Example.ORG."},
		{"ftp://api.example.com/", false, ""},
		{"file:///etc/passwd", false, ""},
		{"https://user:pw@evil.example/", false, ""},
		{"://nonsense", false, ""},
		{"https:///nohost", false, ""},
	} {
		got, rule, reason := a.Decide(tc.url)
		if got != tc.want || rule != tc.rule {
			t.Errorf("Decide(%q) = %v, %q (%s); want %v, %q", tc.url, got, rule, reason, tc.want, tc.rule)
		}
		if !got && reason == "" {
			t.Errorf("Decide(%q): a refusal without a reason", tc.url)
		}
	}
}

func TestEmptyAllowlistDeniesEverything(t *testing.T) {
	a, err := NewAllowlist(nil)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := a.Decide("https://example.com/"); ok {
		t.Fatal("an empty allowlist allowed a call")
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   Config
		field string
	}{
		{"empty entry", Config{Allowlist: []string{""}}, "Allowlist"},
		{"url not host", Config{Allowlist: []string{"https://example.com"}}, "Allowlist"},
		{"inner wildcard", Config{Allowlist: []string{"api.*.com"}}, "Allowlist"},
		{"bare wildcard", Config{Allowlist: []string{"*."}}, "Allowlist"},
		{"negative timeout", Config{RunTimeout: -time.Second}, "RunTimeout"},
		{"negative call timeout", Config{CallTimeout: -time.Second}, "CallTimeout"},
		{"memory", Config{MemoryLimitMiB: 5000}, "MemoryLimitMiB"},
		{"output", Config{MaxOutputBytes: -1}, "MaxOutputBytes"},
	} {
		err := tc.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: Validate() = %v, want an error naming %s", tc.name, err, tc.field)
		}
	}
	if err := (&Config{}).Validate(); err != nil {
		t.Errorf("zero Config: %v", err)
	}
}

// The allowlist runs on every http_call; a host with a few dozen entries
// must decide in well under the cost of the call itself.
func BenchmarkAllowlistDecide(b *testing.B) {
	entries := []string{"*.cdn.example.net", "127.0.0.1"}
	for i := 0; i < 30; i++ {
		entries = append(entries, fmt.Sprintf("api%d.example.com", i))
	}
	a, err := NewAllowlist(entries)
	if err != nil {
		b.Fatal(err)
	}
	urls := []string{"https://api17.example.com/v1/items?page=2", "https://x.cdn.example.net/a.js", "http://10.0.0.5:8500/v1/kv/secrets"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		a.Decide(urls[i%len(urls)])
	}
}
