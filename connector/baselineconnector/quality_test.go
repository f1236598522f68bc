package baselineconnector

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sandwatch/sandwatch/internal/simulate"
)

// TestDetectionQuality runs hundreds of benign extensions through
// learning, then mixes 20,000 benign invocations with attacks injected at
// random times into random extensions. Targets: every attack detected
// with the right type on its own trace, at the moment its spans are
// consumed (no timer involved), and < 1 false positive per 10,000 benign
// invocations.
func TestDetectionQuality(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	const exts, benign, perScenario = 200, 20000, 20
	r := newRig(t, func(c *Config) { c.DedupInterval = 0 })
	g := simulate.New(simulate.Options{Seed: 42, Extensions: exts})
	r.learn(g, 100)
	learnFP := len(r.records())
	r.reset()

	var plan []string
	for _, sc := range simulate.Scenarios() {
		if simulate.AnomalyType(sc) == "" {
			continue
		}
		for i := 0; i < perScenario; i++ {
			plan = append(plan, sc)
		}
	}
	rng := rand.New(rand.NewPCG(9, 9))
	at := map[int]string{} // benign step -> scenario injected just before it
	for _, sc := range plan {
		for {
			k := rng.IntN(benign)
			if _, taken := at[k]; !taken {
				at[k] = sc
				break
			}
		}
	}
	type miss struct{ scenario, ext, got string }
	var misses []miss
	detected := map[string]int{}
	fp := 0
	fpTypes := map[string]int{}
	for step := 0; step < benign; step++ {
		if sc, ok := at[step]; ok {
			before := len(r.records())
			td, ld, inj, err := g.Inject(sc, rng.IntN(exts), r.clock)
			require.NoError(t, err)
			r.feed(td, ld)
			got := r.records()[before:]
			hit := false
			var gotTypes string
			for _, x := range got {
				gotTypes += x.Type + " "
				if x.Type == inj.Anomaly && x.TraceID == [16]byte(inj.TraceID) && x.Ext == inj.ExtensionID {
					hit = true
				}
			}
			if hit {
				detected[sc]++
			} else {
				misses = append(misses, miss{sc, inj.ExtensionID, gotTypes})
			}
			r.reset()
		}
		td, ld := g.Invocation(rng.IntN(exts), r.clock)
		r.feed(td, ld)
		for _, x := range r.records() {
			fp++
			fpTypes[x.Type]++
		}
		r.reset()
		r.advance(5 * time.Millisecond)
	}
	fpPer10k := float64(fp) / benign * 10000
	t.Logf("learning: %d extensions x 100 invocations, %d anomalies during learning", exts, learnFP)
	t.Logf("attacks: %d injected, detected per scenario %v, misses %v", len(plan), detected, misses)
	t.Logf("false positives: %d in %d benign invocations after learning (%.2f per 10k) %v", fp, benign, fpPer10k, fpTypes)
	assert.Zero(t, learnFP)
	assert.Empty(t, misses)
	assert.Less(t, fpPer10k, 1.0)
}
