package baselineconnector

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// BenchmarkConsumeTracesAgents: the agent mix through the connector after
// learning, beside BenchmarkConsumeTraces (the sandbox mix). The mix is
// the recorded Traceloop sessions of the real filesystem and everything
// servers (testdata/samples/traceloop_mcp.json: initialize, tools/list
// with 14 tools and their description hashes, reads, a denial, get-env, a
// gzip fetch, a resource read, the session spans), replayed with fresh
// trace and span ids: ~1000 spans per batch, every session new, so the
// session, agent and chain state works as on live traffic.
func BenchmarkConsumeTracesAgents(b *testing.B) {
	r := newRig(b, func(c *Config) { c.LearnInvocations = 20; c.Agents.LearnSessions = 10 })
	for n := uint32(0); n < 30; n++ {
		td, _ := replay(b, n, nil)
		_ = r.traces.ConsumeTraces(context.Background(), td)
		r.advance(time.Second)
	}
	const nb = 64
	batches := make([]ptrace.Traces, nb)
	spans := 0
	for i := range batches {
		td := ptrace.NewTraces()
		for td.SpanCount() < 1000 {
			one, _ := replay(b, uint32(1000+i*100+td.ResourceSpans().Len()), nil)
			one.ResourceSpans().MoveAndAppendTo(td.ResourceSpans())
		}
		batches[i] = td
		spans += td.SpanCount()
	}
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		td := batches[i%nb]
		_ = r.traces.ConsumeTraces(context.Background(), td)
		n += td.SpanCount()
		if i%nb == nb-1 {
			b.StopTimer()
			r.advance(2 * time.Minute)
			r.b.tick(context.Background(), false)
			r.reset()
			b.StartTimer()
		}
	}
	b.ReportMetric(float64(n)/(cpuTime()-cpu0).Seconds(), "spans/cpu-s")
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "spans/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/span")
}
