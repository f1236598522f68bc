package baselineconnector

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/persist"
	"github.com/sandwatch/sandwatch/internal/simulate"
)

// A restart keeps the agent profiles: a restored agent is past learning,
// so the first attack after the restart is judged (a fresh profile would
// learn it as a habit), and its benign sessions raise nothing.
func TestAgentPersistenceRoundTrip(t *testing.T) {
	st := &memStorage{data: map[string][]byte{}}
	host := hostWith{storageID: st}
	cfg := func(c *Config) {
		c.Storage = &storageID
		c.DedupInterval, c.LearnInvocations = 0, 20
		c.IdleTimeout, c.TraceTTL = time.Millisecond, 10*time.Millisecond
	}
	g := simulate.NewAgents(simulate.AgentOptions{Seed: 5, Agents: 6})
	r := newRigHost(t, cfg, host)
	for i := 0; i < 60; i++ {
		for a := 0; a < 6; a++ {
			td, ld := g.Session(a, r.clock)
			r.feed(td, ld)
			r.advance(5 * time.Millisecond)
			r.b.tick(context.Background(), false)
		}
	}
	require.Empty(t, r.records())
	r.shutdown()
	r.stopped = true
	agents, err := persist.LoadAgents(context.Background(), &memClient{st})
	require.NoError(t, err)
	seen := 0 // a Traceloop agent without content is never attributed
	for _, a := range g.Agents() {
		if a.Emitter != simulate.EmitterTraceloop || a.Content {
			seen++
		}
	}
	require.Len(t, agents, seen)
	for _, a := range agents {
		assert.True(t, a.Learned, a.Name)
		assert.NotEmpty(t, a.Tools.Names, a.Name)
	}

	r2 := newRigHost(t, cfg, host)
	for a := 0; a < 6; a++ {
		td, ld := g.Session(a, r2.clock)
		r2.feed(td, ld)
		r2.advance(5 * time.Millisecond)
		r2.b.tick(context.Background(), false)
	}
	assert.Empty(t, r2.records(), "no anomalies on benign sessions after the restart")
	td, ld, inj, err := g.Inject("agent-exfiltration", 0, r2.clock)
	require.NoError(t, err)
	r2.feed(td, ld)
	found := false
	for _, x := range r2.agentRecords() {
		found = found || (x.typ == inj.Anomaly && x.agent == inj.ExtensionID)
	}
	assert.True(t, found, "the first attack after the restart: %v", r2.agentRecords())
}

// Stored agent profiles of an unknown version are neither loaded nor
// overwritten.
func TestAgentPersistenceRefusesUnknownVersion(t *testing.T) {
	st := &memStorage{data: map[string][]byte{}}
	require.NoError(t, persist.SaveAgents(context.Background(), &memClient{st}, nil, time.Unix(1, 0)))
	st.data[persist.AgentsKey] = []byte("not gzip")
	r := newRigHost(t, func(c *Config) { c.Storage = &storageID }, hostWith{storageID: st})
	r.shutdown()
	r.stopped = true
	assert.Equal(t, "not gzip", string(st.data[persist.AgentsKey]))
}
