package agentstate

import (
	"strings"
	"testing"
	"unsafe"
)

// A session's calls share the names they repeat, and never alias the
// caller's (pdata's) strings.
func TestOwnSharesRepeatedNames(t *testing.T) {
	var s Session
	in := func(server, tool string) Call {
		// Fresh backing arrays, as each pdata batch has.
		return Call{Server: strings.Clone(server), Tool: strings.Clone(tool), Session: strings.Clone("sess-1"), Target: strings.Clone("/etc/passwd")}
	}
	first := in("filesystem", "read_file")
	s.AddRead(first, 8)
	s.AddEgress(in("fetch", "fetch"), 8)
	second := in("filesystem", "read_file")
	s.AddRead(second, 8)

	a, b := s.Reads.calls[0], s.Reads.calls[1]
	same := func(x, y string) bool { return unsafe.StringData(x) == unsafe.StringData(y) }
	if !same(a.Server, b.Server) || !same(a.Tool, b.Tool) || !same(a.Session, b.Session) {
		t.Fatal("a repeated server, tool or session was copied again")
	}
	if same(a.Target, b.Target) {
		t.Fatal("targets vary call by call and are copied each time")
	}
	for _, c := range []struct{ owned, from string }{{b.Server, second.Server}, {b.Tool, second.Tool}, {b.Session, second.Session}, {b.Target, second.Target}} {
		if same(c.owned, c.from) {
			t.Fatalf("%q aliases the caller's string", c.owned)
		}
	}
	if eg := s.Egress.calls[0]; eg.Server != "fetch" || !same(eg.Session, a.Session) {
		t.Fatalf("egress call %+v: want server fetch and the shared session key", eg)
	}
	long := strings.Repeat("x", 1000)
	s.AddRead(in(long, long), 8)
	if got := s.Reads.calls[2].Server; got != Clip(long) {
		t.Fatalf("a long name is not clipped: %d bytes", len(got))
	}
}
