package baselineconnector

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/simulate"
)

// qualityResult is one run of the detection-quality workload.
type qualityResult struct {
	learnFP  int
	injected map[string]int // scenario -> attacks
	detected map[string]int // scenario -> found with the right type on its trace
	misses   []string
	fp       int
	fpTypes  map[string]int
	benign   int
}

func (q qualityResult) fpPer10k() float64 { return float64(q.fp) / float64(q.benign) * 10000 }

func (q qualityResult) recall() string {
	var out string
	for _, sc := range slices.Sorted(func(yield func(string) bool) {
		for k := range q.injected {
			if !yield(k) {
				return
			}
		}
	}) {
		out += fmt.Sprintf("%s (%s) %d/%d; ", sc, simulate.AnomalyType(sc), q.detected[sc], q.injected[sc])
	}
	return out
}

// runQuality runs hundreds of benign extensions through learning, then
// mixes benign invocations with attacks injected at random times into
// random extensions, every attack scenario perScenario times.
func runQuality(t *testing.T, noise float64, exts, benign, perScenario int) qualityResult {
	// Audit records are judged as their batch arrives (no delay): the
	// workload sends each invocation's spans before its audit records.
	r := newRig(t, func(c *Config) { c.DedupInterval = 0; c.Detectors.UnreportedAccess.Delay = 0 })
	g := simulate.New(simulate.Options{Seed: 42, Extensions: exts, Noise: noise})
	// Every invocation runs in its sandbox host's process, and the
	// kernel's record of that process arrives with it.
	feed := func(ext int, td ptrace.Traces, ld plog.Logs, hidden ...string) {
		host, pid := simulate.Process(ext)
		simulate.AttachProcess(td, host, pid)
		r.feed(td, ld)
		r.feed(ptrace.NewTraces(), g.Audit(td, host, pid, hidden...))
	}
	for i := 0; i < 100; i++ {
		for e := range g.Extensions() {
			td, ld := g.Invocation(e, r.clock)
			feed(e, td, ld)
		}
		r.advance(10 * time.Millisecond)
	}
	q := qualityResult{learnFP: len(r.records()), injected: map[string]int{}, detected: map[string]int{}, fpTypes: map[string]int{}, benign: benign}
	r.reset()

	var plan []string
	for _, sc := range append(simulate.Scenarios(), simulate.AuditScenarios()...) {
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
	for step := 0; step < benign; step++ {
		if sc, ok := at[step]; ok {
			ext := rng.IntN(exts)
			td, ld, inj, err := g.Inject(sc, ext, r.clock)
			require.NoError(t, err)
			feed(ext, td, ld, inj.Hidden...)
			q.injected[sc]++
			hit := false
			var gotTypes string
			for _, x := range r.records() {
				gotTypes += x.Type + " "
				if x.Type == inj.Anomaly && x.TraceID == [16]byte(inj.TraceID) && x.Ext == inj.ExtensionID {
					hit = true
				}
			}
			if hit {
				q.detected[sc]++
			} else {
				q.misses = append(q.misses, fmt.Sprintf("%s on %s: got [%s]", sc, inj.ExtensionID, gotTypes))
			}
			r.reset()
		}
		ext := rng.IntN(exts)
		td, ld := g.Invocation(ext, r.clock)
		feed(ext, td, ld)
		for _, x := range r.records() {
			q.fp++
			q.fpTypes[x.Type+" "+x.Target]++
		}
		r.reset()
		r.advance(5 * time.Millisecond)
	}
	return q
}

// TestDetectionQuality: 200 extensions learn for 100 invocations each,
// then 20,000 benign invocations are mixed with 20 attacks of every
// scenario, on clean traffic and at the default noise level (retries,
// pagination, rotating CDN and regional hosts, slow runs, version
// updates). Every invocation names its sandbox host process and comes
// with the kernel's record of it (auditd), so unreported_access is judged
// on every invocation too. Targets: every attack detected with the right type on its own
// trace, at the moment its spans are consumed (no timer involved), and
// < 1 false positive per 10,000 benign invocations.
func TestDetectionQuality(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	for _, noise := range []float64{0, simulate.DefaultNoise} {
		t.Run(fmt.Sprintf("noise=%g", noise), func(t *testing.T) {
			q := runQuality(t, noise, 200, 20000, 20)
			t.Logf("noise %g: learning 200 extensions x 100 invocations, %d anomalies during learning", noise, q.learnFP)
			t.Logf("noise %g: recall per scenario (anomaly type): %s", noise, q.recall())
			t.Logf("noise %g: false positives %d in %d benign invocations (%.2f per 10k) %v", noise, q.fp, q.benign, q.fpPer10k(), q.fpTypes)
			assert.Zero(t, q.learnFP)
			assert.Empty(t, q.misses)
			assert.Less(t, q.fpPer10k(), 1.0)
		})
	}
}
