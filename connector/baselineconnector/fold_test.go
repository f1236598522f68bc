package baselineconnector

import (
	"context"
	"encoding/hex"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sandwatch/sandwatch/internal/simulate"
)

// reachable maps anomaly type -> every trace its records name: their own
// trace_id and the traces listed in anomaly.folded_trace_ids.
func (r *rig) reachable() map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, ld := range r.sink.AllLogs() {
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			sls := ld.ResourceLogs().At(i).ScopeLogs()
			for j := 0; j < sls.Len(); j++ {
				recs := sls.At(j).LogRecords()
				for k := 0; k < recs.Len(); k++ {
					l := recs.At(k)
					typ, _ := l.Attributes().Get(AttrType)
					m := out[typ.Str()]
					if m == nil {
						m = map[string]bool{}
						out[typ.Str()] = m
					}
					tid := l.TraceID()
					m[hex.EncodeToString(tid[:])] = true
					if f, ok := l.Attributes().Get(AttrFoldedTraces); ok {
						for n := 0; n < f.Slice().Len(); n++ {
							m[f.Slice().At(n).Str()] = true
							assert.Contains(r.t, l.Body().Str(), f.Slice().At(n).Str(), "the body names every folded trace (full-text search)")
						}
					}
				}
			}
		}
	}
	return out
}

// Item 6 of the agent-detection issue: with the default dedup (one record
// per extension, type and target per 5 minutes), a second and third
// attack of the same scenario on the same extension seconds after the
// first are folded; every attack trace must still be named, by its own
// record or by the summary's folded traces.
func TestEveryAttackTraceReachable(t *testing.T) {
	r := newRig(t, nil) // default dedup_interval 5m
	g := simulate.New(simulate.Options{Seed: 7, Extensions: 12, Noise: simulate.DefaultNoise})
	r.learn(g, 100)
	r.reset()
	var injected []simulate.Injection
	ext := 0
	for _, sc := range simulate.Scenarios() {
		if simulate.AnomalyType(sc) == "" {
			continue
		}
		for rep := 0; rep < 3; rep++ {
			td, ld, inj, err := g.Inject(sc, ext, r.clock)
			require.NoError(t, err)
			r.feed(td, ld)
			injected = append(injected, inj)
			r.advance(2 * time.Second)
		}
		ext = (ext + 1) % 12
	}
	r.advance(6 * time.Minute) // past the dedup interval: the summaries go out
	r.b.tick(context.Background(), false)
	reach := r.reachable()
	for _, inj := range injected {
		assert.True(t, reach[inj.Anomaly][inj.TraceID.String()], "%s on %s: trace %s reachable from a %s record",
			inj.Scenario, inj.ExtensionID, inj.TraceID, inj.Anomaly)
	}
	t.Logf("%d attacks (3 of each scenario on one extension, 2s apart), all traces reachable", len(injected))
}
