package detect

import (
	"testing"
	"time"

	"github.com/sandwatch/sandwatch/internal/sandboxevent"
)

// FuzzAgentObserve: agent events with sender-controlled strings (tool
// names, tools/list output, sessions, agents, call keys, targets, hashes)
// never panic the engine and never grow its state beyond the bounds.
func FuzzAgentObserve(f *testing.F) {
	f.Add("read_text_file", "a,b,,c", "s1", "coder", "k1", "/home/a/.ssh/id_rsa", uint64(7), uint8(1), uint8(3), true)
	f.Add("", ",,,", "", "", "", "", uint64(0), uint8(9), uint8(0), false)
	f.Add("fetch", "fetch", "s1", "", "k1", "paste.evil.example", uint64(1), uint8(3), uint8(2), true)
	f.Fuzz(func(t *testing.T, tool, listed, session, agent, key, target string, desc uint64, class, tt uint8, list bool) {
		e, err := New(testSettings(func(s *Settings) {
			agentSettings(s)
			s.Agents.MaxSessions, s.Agents.MaxAgents, s.Limits.MaxTools = 4, 2, 8
		}))
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 12; i++ {
			ev := sandboxevent.Event{ExtensionID: []string{"filesystem", "fetch", tool}[i%3], Operation: tool, Target: target,
				TargetType: sandboxevent.TargetType(tt % 6), BlockType: sandboxevent.BlockTypeTool,
				Agent: sandboxevent.AgentInfo{Emitter: sandboxevent.Emitter(1 + i%7), Side: sandboxevent.Side(i % 4), Agent: agent,
					Tool: tool, Session: session, CallKey: key, Class: sandboxevent.ToolClass(class % 7),
					ContentCaptured: i%2 == 0, DescriptionHash: desc + uint64(i%3), ListChanged: i%5 == 0}}
			if list {
				ev.Agent.ListedTools = listed
				ev.Agent.ListedToolHashes = []uint64{desc, desc + 1}
			}
			if i%4 == 3 {
				ev.Outcome = sandboxevent.OutcomeDenied
			}
			e.Observe(&ev, Span{TraceID: [16]byte{byte(i % 3), 1}, SpanID: [8]byte{byte(i), 1}, Start: t0 + int64(i)*ms, End: t0 + int64(i+1)*ms}, t0+int64(i)*ms)
			e.EndBatch(t0 + int64(i)*ms)
		}
		e.Flush(t0 + int64(time.Hour))
		if e.agents.sessions.Len() > 4 || e.agents.agents.Len() > 2 {
			t.Fatalf("state beyond its bounds: %d sessions, %d agents", e.agents.sessions.Len(), e.agents.agents.Len())
		}
		for _, p := range e.profiles.Values() {
			if p.Tools.Len() > 8 {
				t.Fatalf("%s holds %d tools, cap 8", p.ID, p.Tools.Len())
			}
		}
	})
}
