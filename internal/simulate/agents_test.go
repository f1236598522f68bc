package simulate

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/sandboxevent"
)

// classifyAgents runs the event model over a session and returns its
// events, repeats of one call dropped by a CallDeduper.
func classifyAgents(c *sandboxevent.Classifier, d *sandboxevent.CallDeduper, td ptrace.Traces, ld plog.Logs) (calls, all []sandboxevent.Event) {
	keep := func(ev *sandboxevent.Event, repeat bool) {
		all = append(all, *ev)
		if sandboxevent.IsCall(ev) && !repeat {
			calls = append(calls, *ev)
		}
	}
	c.EachSpan(td, func(sp ptrace.Span, ev *sandboxevent.Event, _ ptrace.ResourceSpans, _ ptrace.ScopeSpans) {
		keep(ev, sandboxevent.IsCall(ev) && d.Repeat(ev, sp.SpanID(), sp.ParentSpanID()))
	})
	c.EachLog(ld, func(_ plog.LogRecord, ev *sandboxevent.Event, _ plog.ResourceLogs, _ plog.ScopeLogs) {
		keep(ev, sandboxevent.IsCall(ev) && d.Repeat(ev, [8]byte{}, [8]byte{}))
	})
	return calls, all
}

// Every emitter's session is read by the event model as the calls the
// simulator made: each call once, attributed to a server, the tool named.
func TestAgentSessionsClassify(t *testing.T) {
	g := NewAgents(AgentOptions{Seed: 3, Agents: 12})
	c := sandboxevent.MustNew(sandboxevent.Config{})
	d := sandboxevent.NewCallDeduper(0)
	seen := map[string]bool{}
	for i := range g.Agents() {
		a := g.Agents()[i]
		for range 5 {
			before := g.Agents()[i].sessions
			td, ld := g.Session(i, time.Now())
			calls, _ := classifyAgents(c, d, td, ld)
			made := g.Agents()[i].sessions - before
			require.Equal(t, 1, made)
			require.NotEmpty(t, calls, "%s (%s)", a.ID, a.Emitter)
			for _, ev := range calls {
				assert.NotEmpty(t, ev.Agent.Tool, "%s: %+v", a.Emitter, ev.Agent)
				if a.Content || a.Emitter != EmitterTraceloop {
					assert.NotEmpty(t, ev.ExtensionID, "%s content=%v: %+v", a.Emitter, a.Content, ev.Agent)
				}
				seen[ev.Agent.Emitter.String()] = true
			}
		}
	}
	for _, e := range AgentEmitters() {
		assert.True(t, seen[e], "emitter %s", e)
	}
}

// The calls counted equal the calls made, whatever the emitter and the
// _meta setting: the agent, client and server records of one call fold.
func TestAgentCallsCountedOnce(t *testing.T) {
	for _, meta := range []bool{true, false} {
		g := NewAgents(AgentOptions{Seed: 5, Agents: 6, Emitters: []string{EmitterMCP}, Meta: map[bool]float64{true: 1, false: 0}[meta], MetaSet: true})
		c := sandboxevent.MustNew(sandboxevent.Config{})
		d := sandboxevent.NewCallDeduper(0)
		for i := range 6 {
			td, ld := g.Session(i, time.Now())
			calls, all := classifyAgents(c, d, td, ld)
			tools := 0
			for _, ev := range all {
				if ev.Agent.Side == sandboxevent.SideMCPServer && sandboxevent.IsCall(&ev) {
					tools++
				}
			}
			assert.Equal(t, tools, len(calls), "meta=%v: one count per server-side call", meta)
		}
	}
}

func TestAgentScenarios(t *testing.T) {
	g := NewAgents(AgentOptions{Seed: 9, Agents: 12})
	c := sandboxevent.MustNew(sandboxevent.Config{})
	for _, name := range AgentScenarios() {
		t.Run(name, func(t *testing.T) {
			td, ld, inj, err := g.Inject(name, 0, time.Now())
			require.NoError(t, err)
			assert.Equal(t, AgentAnomalyType(name), inj.Anomaly)
			_, all := classifyAgents(c, sandboxevent.NewCallDeduper(0), td, ld)
			var denied, listChanged, egress, private int
			var tools []string
			var hashes []uint64
			for _, ev := range all {
				if ev.Outcome == sandboxevent.OutcomeDenied {
					denied++
				}
				if ev.Agent.ListChanged {
					listChanged++
				}
				if ev.IsEgress() && ev.TargetType == sandboxevent.TargetHost {
					egress++
				}
				if ev.Agent.Class == sandboxevent.ToolClassSecrets || (ev.IsRead() && ev.Target != "" && ev.Target[len(ev.Target)-4:] == ".env") {
					private++
				}
				if ev.Agent.ListedTools != "" && ev.ExtensionID == "secure-filesystem-server" {
					hashes = ev.Agent.ListedToolHashes
				}
				tools = append(tools, ev.ExtensionID+"/"+ev.Agent.Tool)
			}
			switch name {
			case "agent-exfiltration", "agent-env-exfiltration":
				assert.Equal(t, 1, private, "the private read")
				assert.GreaterOrEqual(t, egress, 1, "the upload, with its host")
			case "agent-chain-no-content":
				assert.Equal(t, 0, egress, "no host: no arguments captured")
				secretsAt, egressAt := -1, -1
				for i, ev := range all {
					assert.False(t, ev.Agent.ContentCaptured, "%s/%s", ev.ExtensionID, ev.Agent.Tool)
					switch {
					case ev.Agent.Tool == "get-env" && ev.Agent.Class == sandboxevent.ToolClassSecrets && secretsAt < 0:
						secretsAt = i
					case ev.Agent.Tool == "fetch" && ev.Agent.Class == sandboxevent.ToolClassEgress:
						egressAt = i
					}
				}
				require.GreaterOrEqual(t, secretsAt, 0, "a secrets-class call: %v", tools)
				assert.Greater(t, egressAt, secretsAt, "then an egress-class call: %v", tools)
			case "agent-outside-roots":
				assert.Equal(t, 5, denied)
			case "agent-list-changed":
				assert.Equal(t, 1, listChanged)
			case "agent-unused-tool":
				assert.Contains(t, tools, "filesystem/move_file")
			case "agent-shadowing":
				assert.Contains(t, tools, "notes-helper/read_text_file")
			case "agent-description-changed":
				require.NotEmpty(t, hashes)
				benign, _ := g.Session(int(indexOf(g, inj.ExtensionID)), time.Now())
				_, ball := classifyAgents(c, sandboxevent.NewCallDeduper(0), benign, plog.NewLogs())
				var before []uint64
				for _, ev := range ball {
					if ev.Agent.ListedTools != "" && ev.ExtensionID == "secure-filesystem-server" {
						before = ev.Agent.ListedToolHashes
					}
				}
				require.Len(t, before, len(hashes))
				assert.NotEqual(t, before[0], hashes[0], "read_text_file's description hash changed")
				assert.Equal(t, before[1:], hashes[1:], "the other tools' did not")
			}
		})
	}
}

func indexOf(g *AgentGenerator, id string) int {
	for i, a := range g.Agents() {
		if a.ID == id {
			return i
		}
	}
	return -1
}

func TestAgentOptionsValidate(t *testing.T) {
	assert.ErrorContains(t, (&AgentOptions{Emitters: []string{"nope"}}).Validate(), "emitters")
	assert.ErrorContains(t, (&AgentOptions{Content: 2}).Validate(), "content")
	assert.NoError(t, (&AgentOptions{Emitters: AgentEmitters(), Content: 1, Meta: 0.5, Noise: 1}).Validate())
}
