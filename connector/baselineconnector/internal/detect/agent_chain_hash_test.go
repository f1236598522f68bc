package detect

import (
	"testing"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/agentstate"
	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/profile"
)

// pairHash must stay the hash of pairName: profiles learned (and
// persisted) by name are matched by this hash.
func TestPairHashIsTheNamesHash(t *testing.T) {
	for _, c := range [][4]string{
		{"filesystem", "read_file", "fetch", "fetch"},
		{"", "", "", ""},
		{"a/b", "c>d", "e", "f/g"},
		{"github", "get_file_contents", "slack", "post_message"},
	} {
		r := &agentstate.Call{Server: c[0], Tool: c[1]}
		eg := &agentstate.Call{Server: c[2], Tool: c[3]}
		if got, want := pairHash(r, eg), profile.Hash(pairName(r, eg)); got != want {
			t.Fatalf("%q: pairHash %x, hash of the name %x", c, got, want)
		}
	}
}
