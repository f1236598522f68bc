package aggregate

import (
	"strconv"
	"testing"
	"time"

	"github.com/sandwatch/sandwatch/internal/sandboxevent"
	"github.com/sandwatch/sandwatch/internal/simulate"
)

// BenchmarkRecordSpan is the aggregation alone (classification done up
// front) over the simulator's realistic mix.
func BenchmarkRecordSpan(b *testing.B) {
	td, _ := simulate.New(simulate.Options{Seed: 1, Extensions: 200}).Batch(0, 1000, time.Unix(1_795_000_000, 0))
	c := sandboxevent.MustNew(sandboxevent.Config{})
	var evs []sandboxevent.Event
	var sps []Span
	var rc sandboxevent.ResourceContext
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		rs := td.ResourceSpans().At(i)
		c.LoadResource(rs.Resource().Attributes(), &rc)
		spans := rs.ScopeSpans().At(0).Spans()
		for k := 0; k < spans.Len(); k++ {
			var ev sandboxevent.Event
			c.ClassifySpan(spans.At(k), &rc, &ev)
			evs = append(evs, ev)
			sp := spans.At(k)
			sps = append(sps, Span{Root: sp.ParentSpanID().IsEmpty(), Duration: float64(sp.EndTimestamp()-sp.StartTimestamp()) / 1e9,
				Exemplar: Exemplar{TraceID: sp.TraceID(), SpanID: sp.SpanID(), Time: sp.EndTimestamp()}})
		}
	}
	a := New(Config{MaxSeries: 2000, MaxExemplars: 2, Bounds: []float64{0.001, 0.01, 0.1, 1, 10}}, 0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i % len(evs)
		a.RecordSpan(&evs[j], &sps[j], 1)
		if j == len(evs)-1 {
			a.EndBatch()
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "spans/s")
}

// BenchmarkRecordSpanAdversarial mints a new extension id per span, far
// beyond the cap: the overflow path must stay allocation-free.
func BenchmarkRecordSpanAdversarial(b *testing.B) {
	ids := make([]string, 100_000)
	for i := range ids {
		ids[i] = "ext-" + strconv.Itoa(i)
	}
	a := New(Config{MaxSeries: 1000, MaxExemplars: 2, Bounds: []float64{0.01, 0.1, 1}}, 0)
	ev := sandboxevent.Event{Kind: sandboxevent.KindHTTP, StatusCode: 200, Operation: "POST"}
	sp := Span{Duration: 0.01}
	for _, id := range ids[:2000] { // fill every cap first
		ev.ExtensionID = id
		a.RecordSpan(&ev, &sp, 1)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev.ExtensionID = ids[i%len(ids)]
		a.RecordSpan(&ev, &sp, 1)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "spans/s")
}
