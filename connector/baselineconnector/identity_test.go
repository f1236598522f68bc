package baselineconnector

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/identitymark"
)

// flag marks td as the identity processor does for a sender that may not
// speak for the extension it claims.
func flag(td ptrace.Traces, sender string) ptrace.Traces {
	for _, rs := range td.ResourceSpans().All() {
		rs.Resource().Attributes().PutBool(identitymark.Flagged, true)
		rs.Resource().Attributes().PutStr(identitymark.Identity, sender)
		for _, ss := range rs.ScopeSpans().All() {
			for _, s := range ss.Spans().All() {
				s.Attributes().PutStr(identitymark.Mismatch, identitymark.ReasonExtensionNotBound)
			}
		}
	}
	return td
}

// A flagged trace, sent while the extension is still learning, is
// reported as identity_mismatch and teaches the profile nothing: once
// learning ends, the same destination from the extension itself is new.
func TestIdentityMismatchNeverLearned(t *testing.T) {
	r := newRig(t, func(c *Config) { c.LearnInvocations = 3 })
	benign := func(tid byte) ptrace.Traces {
		return goose("notes", tid, map[string]any{"block.type": "HttpRequestBlock", "http.method": "GET", "http.url": "https://api.notes.io/x"})
	}
	evil := func(tid byte) ptrace.Traces {
		return goose("notes", tid, map[string]any{"block.type": "HttpRequestBlock", "http.method": "POST", "http.url": "https://evil.example.net/up"})
	}
	r.feed(benign(1), plog.NewLogs())
	r.feed(flag(evil(2), "agent-a"), plog.NewLogs())
	r.feed(benign(3), plog.NewLogs())
	r.feed(benign(4), plog.NewLogs())
	got := r.records()
	require.Len(t, got, 1, "%v", got)
	assert.Equal(t, record{Type: TypeIdentityMismatch, Ext: "notes", Target: "agent-a", Learning: "learning", Severity: "critical", Count: 1,
		TraceID: [16]byte{2, 1}, SpanID: [8]byte{2}}, got[0])

	r.reset()
	r.feed(evil(5), plog.NewLogs())
	assert.Equal(t, map[string]int{"new_destination": 1}, types(r.records()), "%v", r.records())
}

// Repeats from one sender fold into the engine's de-duplication instead
// of one event per span.
func TestIdentityMismatchFolds(t *testing.T) {
	r := newRig(t, nil)
	for i := range 20 {
		r.feed(flag(goose("notes", byte(i+1), map[string]any{"block.type": "FileReadBlock", "fs.path": fmt.Sprintf("/etc/x%d", i)}), "agent-a"), plog.NewLogs())
	}
	assert.Len(t, ofType(r.records(), TypeIdentityMismatch), 1)
}
