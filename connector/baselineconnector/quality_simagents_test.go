package baselineconnector

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/detect"
	"github.com/sandwatch/sandwatch/internal/simulate"
)

// agentQuality is one run of the simulate --agents workload.
type agentQuality struct {
	learnFP            map[string]int
	injected, detected map[string]int
	misses             []string
	fp                 int
	fpTypes            map[string]int
	benign             int
}

// runAgentQuality: agents of every emitter of `sandwatchctl simulate
// --agents` (GenAI, MCP client/server with _meta on and off, Traceloop,
// Claude Code, Codex, Gemini CLI; content capture on for half) learn for
// learn sessions each, then benign sessions are mixed with per attacks of
// every agent scenario, into random agents at random times. An attack is
// found when its anomaly type is raised on one of its session's traces
// (Traceloop writes one trace per server connection).
func runAgentQuality(t *testing.T, noise float64, agents, learn, benign, per int) agentQuality {
	// The servers' invocations within an agent's trace have no root of
	// their own: they are judged (and counted toward learning) when idle.
	// A 1ms idle_timeout and a tick after every session make that
	// deterministic here (in production: idle_timeout, 2s, after them).
	r := newRig(t, func(c *Config) {
		c.DedupInterval = 0
		c.IdleTimeout, c.TraceTTL = time.Millisecond, 10*time.Millisecond
	})
	settle := func() {
		r.advance(5 * time.Millisecond)
		r.b.tick(context.Background(), false)
	}
	g := simulate.NewAgents(simulate.AgentOptions{Seed: 42, Agents: agents, Noise: noise})
	for i := 0; i < learn; i++ {
		for a := 0; a < agents; a++ {
			td, ld := g.Session(a, r.clock)
			r.feed(td, ld)
			settle()
		}
	}
	q := agentQuality{learnFP: types(r.records()), injected: map[string]int{}, detected: map[string]int{}, fpTypes: map[string]int{}, benign: benign}
	r.reset()
	rng := rand.New(rand.NewPCG(9, 9))
	at := map[int]string{}
	for _, sc := range simulate.AgentScenarios() {
		for i := 0; i < per; i++ {
			for {
				k := rng.IntN(benign)
				if _, taken := at[k]; !taken {
					at[k] = sc
					break
				}
			}
		}
	}
	for step := 0; step < benign; step++ {
		if sc, ok := at[step]; ok {
			td, ld, inj, err := g.Inject(sc, observable(g, rng.IntN(agents)), r.clock)
			require.NoError(t, err)
			r.feed(td, ld)
			settle()
			q.injected[sc]++
			traces := map[[16]byte]bool{[16]byte(inj.TraceID): true}
			for _, tid := range inj.Related {
				traces[[16]byte(tid)] = true
			}
			hit, got := false, ""
			for _, x := range r.agentRecords() {
				got += x.typ + " "
				// Log events (Claude Code, Codex, Gemini CLI) carry no
				// trace: their anomaly names the agent and its session.
				if x.typ == inj.Anomaly && (traces[x.trace] || x.agent == inj.ExtensionID) {
					hit = true
				}
			}
			if hit {
				q.detected[sc]++
			} else {
				q.misses = append(q.misses, fmt.Sprintf("%s on %s: got [%s]", sc, inj.ExtensionID, got))
			}
			r.reset()
		}
		td, ld := g.Session(rng.IntN(agents), r.clock)
		r.feed(td, ld)
		settle()
		for _, x := range r.records() {
			q.fp++
			q.fpTypes[x.Type+" "+x.Ext+" "+x.Target]++
		}
		r.reset()
	}
	return q
}

// TestDetectionQualityAgentsSimulated: the agent mix of `sandwatchctl
// simulate --agents`, 36 agents (six of each emitter), 60 learning
// sessions each, then 20,000 benign sessions with 20 attacks of every
// agent scenario, clean and at the default noise. Targets: every attack
// found on its session, < 1 false positive per 10,000 benign sessions.
func TestDetectionQualityAgentsSimulated(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	for _, noise := range []float64{0, simulate.DefaultNoise} {
		t.Run(fmt.Sprintf("noise=%g", noise), func(t *testing.T) {
			q := runAgentQuality(t, noise, 36, 60, 20000, 20)
			var recall string
			for _, sc := range simulate.AgentScenarios() {
				recall += fmt.Sprintf("%s (%s) %d/%d; ", sc, simulate.AgentAnomalyType(sc), q.detected[sc], q.injected[sc])
			}
			// Recall per anomaly kind: every kind of the agent detectors
			// the simulator can raise, the content-off chain included.
			kinds := map[string][2]int{}
			for _, sc := range simulate.AgentScenarios() {
				k := kinds[simulate.AgentAnomalyType(sc)]
				kinds[simulate.AgentAnomalyType(sc)] = [2]int{k[0] + q.detected[sc], k[1] + q.injected[sc]}
			}
			t.Logf("simulate --agents, noise %g: recall per anomaly kind (found, injected): %v", noise, kinds)
			for _, kind := range simulatedAgentKinds {
				assert.Positive(t, kinds[kind][1], "the mix injects %s", kind)
				assert.Equal(t, kinds[kind][1], kinds[kind][0], "every %s found", kind)
			}
			per10k := float64(q.fp) / float64(q.benign) * 10000
			t.Logf("simulate --agents, noise %g: learning anomalies %v", noise, q.learnFP)
			t.Logf("simulate --agents, noise %g: recall per scenario (anomaly type): %s", noise, recall)
			t.Logf("simulate --agents, noise %g: false positives %d in %d benign sessions (%.2f per 10k) %v", noise, q.fp, q.benign, per10k, q.fpTypes)
			assert.Empty(t, q.misses)
			assert.Less(t, per10k, 1.0)
		})
	}
}

// simulatedAgentKinds: the anomaly kinds the agent mix of the simulator
// must exercise: every agent detector's, and a server's refusals.
var simulatedAgentKinds = []string{
	detect.TypeCrossToolExfiltration, detect.TypeCrossToolSequence, detect.TypeNewTool,
	detect.TypeToolDescriptionChanged, detect.TypeToolListChanged, detect.TypeToolShadowing,
	detect.TypeCapabilityDenied,
}

// observable returns i, or the next agent whose attack the event model
// records: a Traceloop agent without content capture has no server
// identity (initialize's serverInfo is content), so its calls are
// unattributed and no detector sees them (README: what the detectors
// cannot see).
func observable(g *simulate.AgentGenerator, i int) int {
	as := g.Agents()
	for k := 0; k < len(as); k++ {
		a := as[(i+k)%len(as)]
		if a.Emitter != simulate.EmitterTraceloop || a.Content {
			return (i + k) % len(as)
		}
	}
	return i
}

type agentRecord struct {
	typ, agent string
	trace      [16]byte
}

func (r *rig) agentRecords() []agentRecord {
	var out []agentRecord
	for _, ld := range r.sink.AllLogs() {
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			sls := ld.ResourceLogs().At(i).ScopeLogs()
			for j := 0; j < sls.Len(); j++ {
				recs := sls.At(j).LogRecords()
				for k := 0; k < recs.Len(); k++ {
					l := recs.At(k)
					typ, _ := l.Attributes().Get(AttrType)
					ag, _ := l.Attributes().Get(AttrAgent)
					out = append(out, agentRecord{typ: typ.Str(), agent: ag.Str(), trace: l.TraceID()})
				}
			}
		}
	}
	return out
}
