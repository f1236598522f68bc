package baselineconnector

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/plog"
)

// TestDetectionQualityAgents: the agent mix (agentmix_test.go): 50 agents
// learn for 60 sessions each, then 20,000 benign sessions are mixed with
// 20 attacks of every agent scenario at random times, into random agents
// (cross-tool-exfiltration into agents with content capture,
// cross-tool-sequence into agents without). Targets: every attack found
// with its anomaly type on its own trace, at the moment its spans are
// consumed, and < 1 false positive per 10,000 benign sessions.
func TestDetectionQualityAgents(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	const agents, learn, benign, per = 50, 60, 20000, 20
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
	m := newAgentMix(42, agents)
	for i := 0; i < learn; i++ {
		for a := range m.agents {
			td, _ := m.session(&m.agents[a], m.benignCalls(&m.agents[a]), r.clock, false)
			r.feed(td, plog.NewLogs())
			settle()
		}
	}
	learnFP := types(r.records())
	r.reset()

	rng := rand.New(rand.NewPCG(9, 9))
	at := map[int]string{}
	for _, sc := range slices.Sorted(maps.Keys(agentScenarios)) {
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
	injected, detected := map[string]int{}, map[string]int{}
	var misses []string
	fp, fpTypes := 0, map[string]int{}
	for step := 0; step < benign; step++ {
		if sc, ok := at[step]; ok {
			a := &m.agents[rng.IntN(agents)]
			for (sc == "cross-tool-exfiltration" && !a.content) || (sc == "cross-tool-sequence" && a.content) {
				a = &m.agents[rng.IntN(agents)]
			}
			td, tid := m.session(a, m.attackCalls(sc, a), r.clock, sc == "tool-list-changed")
			r.feed(td, plog.NewLogs())
			settle()
			injected[sc]++
			hit, got := false, ""
			for _, x := range r.records() {
				got += x.Type + " "
				if x.Type == agentScenarios[sc] && x.TraceID == [16]byte(tid) {
					hit = true
				}
			}
			if hit {
				detected[sc]++
			} else {
				misses = append(misses, fmt.Sprintf("%s on %s: got [%s]", sc, a.name, got))
			}
			r.reset()
		}
		a := &m.agents[rng.IntN(agents)]
		td, _ := m.session(a, m.benignCalls(a), r.clock, false)
		r.feed(td, plog.NewLogs())
		settle()
		for _, x := range r.records() {
			fp++
			fpTypes[x.Type+" "+x.Ext+" "+x.Target]++
		}
		r.reset()
	}
	var recall string
	for _, sc := range slices.Sorted(maps.Keys(agentScenarios)) {
		recall += fmt.Sprintf("%s (%s) %d/%d; ", sc, agentScenarios[sc], detected[sc], injected[sc])
	}
	per10k := float64(fp) / benign * 10000
	t.Logf("agents: learning %d agents x %d sessions: anomalies %v", agents, learn, learnFP)
	t.Logf("agents: recall per scenario (anomaly type): %s", recall)
	t.Logf("agents: false positives %d in %d benign sessions (%.2f per 10k) %v", fp, benign, per10k, fpTypes)
	assert.Empty(t, learnFP)
	assert.Empty(t, misses)
	assert.Less(t, per10k, 1.0)
}
