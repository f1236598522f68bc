package baselineconnector

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/sandwatch/sandwatch/internal/simulate"
)

// A gateway that consumes spans and log records from two Kafka topics sees
// them skewed: here every learning invocation's spans arrive before any of
// its log records (a JavaScript sandbox's capability decisions and library
// loads are log records). The late records are learned, not reported, and
// counted in sandbox.baseline.learned_late; the CI run of stop 28 reported
// them as new_capability on benign traces.
func TestLogRecordsLaggingSpansThroughLearning(t *testing.T) {
	r := newRig(t, nil)
	g := simulate.New(simulate.Options{Seed: 1, Extensions: 8})
	lagging := plog.NewLogs()
	for range 100 {
		for e := range g.Extensions() {
			td, ld := g.Invocation(e, r.clock)
			r.feed(td, plog.NewLogs())
			ld.ResourceLogs().MoveAndAppendTo(lagging.ResourceLogs())
		}
		r.advance(10 * time.Millisecond)
	}
	require.Equal(t, 8, r.b.eng.Stats().Detecting, "every extension learned from its spans")
	records := lagging.LogRecordCount()
	require.NotZero(t, records, "the simulator's JavaScript extensions log capability decisions")
	r.advance(2 * time.Second) // the logs topic's lag
	require.NoError(t, r.logs.ConsumeLogs(context.Background(), lagging))
	require.Empty(t, r.records(), "the learning invocations' late records were judged")
	assert.EqualValues(t, records, r.b.eng.C.LearnedLate)

	// What they taught is known: benign invocations in order raise nothing.
	r.learn(g, 50)
	require.Empty(t, r.records(), "benign invocations after learning")

	md := r.b.buildMetrics(r.clock)
	ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	var late int64 = -1
	for i := 0; i < ms.Len(); i++ {
		if ms.At(i).Name() == "sandbox.baseline.learned_late" {
			late = ms.At(i).Sum().DataPoints().At(0).IntValue()
		}
	}
	assert.EqualValues(t, records, late, "sandbox.baseline.learned_late")
}
