package binding

import (
	"strings"
	"testing"
)

// FuzzParse: any bindings file either fails with an error naming the file
// or yields a set whose every identity resolves by its own name.
func FuzzParse(f *testing.F) {
	f.Add([]byte("identities:\n  - {name: a, usernames: [u], extensions: [\"x*\"]}\n"))
	f.Add([]byte("identities:\n  - name: n\n    cert_sans: [s]\n    hosts: [h]\n  - name: m\n    cert_sans: [s]\n    hosts: [h]\n"))
	f.Add([]byte("identities: 3"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("f.yaml", data, Forwarders{})
		if err != nil {
			if !strings.Contains(err.Error(), "f.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for name, id := range s.byName {
			if s.ByName(name) != id || id.Name != name {
				t.Fatalf("identity %q not found by its name", name)
			}
			_ = id.Covers("ext", "host")
		}
	})
}
