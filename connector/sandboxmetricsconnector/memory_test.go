package sandboxmetricsconnector

import (
	"context"
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// adversarialBatch is n HTTP spans whose extension ids (and hosts) are set
// per round by setIDs: a hostile workload minting a new id per span.
func adversarialBatch(n int) (ptrace.Traces, []ptrace.Span) {
	td := ptrace.NewTraces()
	spans := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	out := make([]ptrace.Span, n)
	for i := range out {
		s := spans.AppendEmpty()
		s.SetTraceID(pcommon.TraceID{byte(i), 1})
		s.SetSpanID(pcommon.SpanID{byte(i), 2})
		s.SetParentSpanID(pcommon.SpanID{9})
		s.SetStartTimestamp(1)
		s.SetEndTimestamp(1_000_000)
		s.Attributes().PutStr("extension.id", "")
		s.Attributes().PutStr("http.method", "POST")
		s.Attributes().PutStr("http.url", "")
		s.Attributes().PutInt("http.status_code", 200)
		out[i] = s
	}
	return td, out
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestMillionDistinctExtensionsBounded feeds a million distinct extension
// ids and hosts (targets opt-in on): the series stay at the cap, and the
// heap stays flat after the cap is reached.
func TestMillionDistinctExtensionsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("a million spans")
	}
	cfg := createDefaultConfig()
	cfg.MaxSeriesPerMetric = 1000
	cfg.Targets.Enabled = true
	cfg.Targets.TopK = 100
	c, sink := newTestConnector(t, cfg)
	ctx := context.Background()
	const batch, rounds = 1000, 1000
	td, spans := adversarialBatch(batch)
	id := 0
	feed := func(r int) {
		for i := 0; i < r; i++ {
			for _, s := range spans {
				ext := "ext-" + strconv.Itoa(id)
				s.Attributes().PutStr("extension.id", ext)
				s.Attributes().PutStr("http.url", "https://h"+strconv.Itoa(id)+".example/x")
				id++
			}
			require.NoError(t, c.ConsumeTraces(ctx, td))
		}
	}
	feed(10) // 10k ids: every cap is reached
	before := heapInUse()
	feed(rounds - 10)
	after := heapInUse()
	require.Equal(t, batch*rounds, id)

	c.mu.Lock()
	st := c.agg.Stats()
	c.mu.Unlock()
	// Per metric: at most the cap plus one overflow series. Five metrics
	// fire for these spans (operations, duration, http responses, egress,
	// targets capped at top_k).
	assert.LessOrEqual(t, st.Series, 4*(cfg.MaxSeriesPerMetric+1)+cfg.Targets.TopK+1)
	growth := int64(after) - int64(before)
	t.Logf("heap before %d KiB, after %d KiB, growth %d KiB over %d distinct ids; %d series",
		before>>10, after>>10, growth>>10, id, st.Series)
	assert.Less(t, growth, int64(8<<20), "heap grew with distinct ids beyond the cap")

	c.flush(ctx)
	md := sink.AllMetrics()[0]
	ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	for i := 0; i < ms.Len(); i++ {
		m := ms.At(i)
		n := 0
		switch m.Type() {
		case pmetric.MetricTypeHistogram:
			n = m.Histogram().DataPoints().Len()
		case pmetric.MetricTypeSum:
			n = m.Sum().DataPoints().Len()
		}
		assert.LessOrEqual(t, n, cfg.MaxSeriesPerMetric+1, m.Name())
	}
}
