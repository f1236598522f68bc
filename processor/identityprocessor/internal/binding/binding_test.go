package binding

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func digest(tok string) string {
	d := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(d[:])
}

func testSet(t *testing.T) *Set {
	t.Helper()
	s, err := Compile("bindings", []Entry{
		{Name: "weather-host", TokensSHA256: []string{digest("tok-weather")}, Extensions: []string{"weather-sync", "weather-*"}},
		{Name: "node-7", CertCommonNames: []string{"node-7.sandbox"}, CertSANs: []string{"spiffe://cluster/ns/sandbox/sa/node-7"}, Hosts: []string{"node-7"}},
		{Name: "mcp", Usernames: []string{"mcp-runner"}, Extensions: []string{"mcp/*"}, Hosts: []string{"gpu-*"}},
	}, Forwarders{CertCommonNames: []string{"sandwatch-tier1"}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestResolve(t *testing.T) {
	s := testSet(t)
	cases := []struct {
		name string
		c    Credentials
		want string
	}{
		{"token", Credentials{Token: "tok-weather"}, "weather-host"},
		{"wrong token", Credentials{Token: "tok-other"}, ""},
		{"common name", Credentials{CertCommonName: "node-7.sandbox"}, "node-7"},
		{"san", Credentials{CertCommonName: "x", CertSANs: []string{"a", "spiffe://cluster/ns/sandbox/sa/node-7"}}, "node-7"},
		{"username", Credentials{Username: "mcp-runner"}, "mcp"},
		{"token beats certificate", Credentials{Token: "tok-weather", CertCommonName: "node-7.sandbox"}, "weather-host"},
		{"unknown token falls back to certificate", Credentials{Token: "nope", CertCommonName: "node-7.sandbox"}, "node-7"},
		{"nothing", Credentials{}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ""
			if id := s.Resolve(c.c); id != nil {
				got = id.Name
			}
			if got != c.want {
				t.Fatalf("Resolve(%+v) = %q, want %q", c.c, got, c.want)
			}
		})
	}
}

func TestCovers(t *testing.T) {
	s := testSet(t)
	cases := []struct {
		id, ext, host, want string
	}{
		{"weather-host", "weather-sync", "", ""},
		{"weather-host", "weather-radar", "any", ""},
		{"weather-host", "report-builder", "", reasonExtensionNotBound},
		{"weather-host", "", "", ""}, // claims no extension
		{"node-7", "anything", "node-7", ""},
		{"node-7", "anything", "node-8", reasonHostNotBound},
		{"node-7", "anything", "", reasonHostNotBound}, // a host-bound identity must name its host
		{"mcp", "mcp/github", "gpu-3", ""},
		{"mcp", "mcp/github", "cpu-3", reasonHostNotBound},
		{"mcp", "github", "gpu-3", reasonExtensionNotBound},
	}
	for _, c := range cases {
		if got := s.ByName(c.id).Covers(c.ext, c.host); got != c.want {
			t.Errorf("%s.Covers(%q, %q) = %q, want %q", c.id, c.ext, c.host, got, c.want)
		}
	}
}

func TestForwarder(t *testing.T) {
	s := testSet(t)
	if !s.IsForwarder(Credentials{CertCommonName: "sandwatch-tier1"}) {
		t.Fatal("tier 1's certificate not trusted")
	}
	if s.IsForwarder(Credentials{CertCommonName: "node-7.sandbox", Token: "sandwatch-tier1"}) {
		t.Fatal("a token must never make a forwarder")
	}
}

func TestGlob(t *testing.T) {
	cases := []struct {
		p, s string
		want bool
	}{
		{"a", "a", true}, {"a", "ab", false}, {"*", "", true}, {"a*", "abc", true}, {"*c", "abc", true},
		{"a*c", "abc", true}, {"a*c", "ac", true}, {"a*c", "abd", false}, {"a*b*c", "axbyc", true},
		{"a*b*c", "axcyb", false}, {"ab*ba", "aba", false}, {"mcp/*", "mcp/x/y", true},
	}
	for _, c := range cases {
		if got := compilePattern(c.p).match(c.s); got != c.want {
			t.Errorf("%q.match(%q) = %v, want %v", c.p, c.s, got, c.want)
		}
	}
}

func TestValidateNamesTheField(t *testing.T) {
	cases := []struct {
		entries []Entry
		want    string
	}{
		{[]Entry{{TokensSHA256: []string{digest("x")}, Extensions: []string{"a"}}}, "bindings[0].name: empty"},
		{[]Entry{{Name: "a", Extensions: []string{"a"}}}, "bindings[0]: \"a\" has no credential"},
		{[]Entry{{Name: "a", Usernames: []string{"u"}}}, "bindings[0]: \"a\" may report nothing"},
		{[]Entry{{Name: "a", TokensSHA256: []string{"secret"}, Extensions: []string{"a"}}}, "bindings[0].tokens_sha256: \"secret\" is not a hex SHA-256 digest"},
		{[]Entry{{Name: "a", Usernames: []string{"u"}, Hosts: []string{"h"}}, {Name: "a", Usernames: []string{"v"}, Hosts: []string{"h"}}}, "bindings[1].name: \"a\" is also bindings[0]"},
		{[]Entry{{Name: "a", CertSANs: []string{"s"}, Hosts: []string{"h"}}, {Name: "b", CertSANs: []string{"s"}, Hosts: []string{"h"}}}, "bindings[1].cert_sans: \"s\" also belongs to \"a\""},
		{[]Entry{{Name: "a", Usernames: []string{"u"}, Extensions: []string{""}}}, "bindings[0].extensions: empty pattern"},
	}
	for _, c := range cases {
		err := Validate("bindings", c.entries)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Validate(%+v) = %v, want an error containing %q", c.entries, err, c.want)
		}
	}
}

func TestFileReloadKeepsLastGood(t *testing.T) {
	path := filepath.Join(t.TempDir(), "identities.yaml")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("identities:\n  - {name: a, usernames: [ua], extensions: [ext-a]}\n")
	f := &File{Path: path}
	s, changed, err := f.Load()
	if err != nil || !changed || s.Resolve(Credentials{Username: "ua"}).Name != "a" {
		t.Fatalf("first load: %v %v %v", s, changed, err)
	}
	if s, changed, err := f.Load(); err != nil || changed || s != nil {
		t.Fatalf("unchanged file reloaded: %v %v %v", s, changed, err)
	}
	write("identities:\n  - {name: a, usernames: [ua], extension: [ext-a]}\n") // misspelt key
	if _, changed, err := f.Load(); err == nil || !changed || !strings.Contains(err.Error(), "field extension not found") {
		t.Fatalf("bad file: changed %v, err %v", changed, err)
	}
	write("identities:\n  - {name: a, usernames: [ua], extensions: [ext-a, ext-b]}\n")
	s, changed, err = f.Load()
	if err != nil || !changed || s.ByName("a").Covers("ext-b", "") != "" {
		t.Fatalf("fixed file: %v %v %v", s, changed, err)
	}
	write("")
	if _, _, err := f.Load(); err == nil || !strings.Contains(err.Error(), "no identities") {
		t.Fatalf("empty file: %v", err)
	}
}

func TestCoversAnything(t *testing.T) {
	s, err := Compile("b", []Entry{
		{Name: "any", Usernames: []string{"a"}, Extensions: []string{"*"}},
		{Name: "any-on-host", Usernames: []string{"b"}, Extensions: []string{"*"}, Hosts: []string{"h"}},
		{Name: "some", Usernames: []string{"c"}, Extensions: []string{"x*"}},
	}, Forwarders{})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"any": true, "any-on-host": false, "some": false} {
		if got := s.ByName(name).CoversAnything(); got != want {
			t.Errorf("%s.CoversAnything() = %v, want %v", name, got, want)
		}
	}
}
