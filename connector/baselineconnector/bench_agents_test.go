package baselineconnector

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/simulate"
)

// BenchmarkConsumeAgents: the agent mix of `sandwatchctl simulate
// --agents` (36 agents of every emitter: GenAI spans, MCP client and
// server spans with and without _meta, Traceloop, and the log events of
// Claude Code, Codex and Gemini CLI; content capture on for half; default
// noise) through the connector after 60 learning sessions per agent,
// beside BenchmarkConsumeTraces (the sandbox mix). Each batch is the
// spans (and log events) of sessions until ~1000 records, every session
// new, as live traffic gives them.
func BenchmarkConsumeAgents(b *testing.B) {
	r := newRig(b, nil)
	g := simulate.NewAgents(simulate.AgentOptions{Seed: 1, Agents: 36, Noise: simulate.DefaultNoise})
	for i := 0; i < 60; i++ {
		for a := 0; a < 36; a++ {
			td, ld := g.Session(a, r.clock)
			r.feed(td, ld)
		}
		r.advance(3 * time.Second) // idle: the sessions' invocations are judged and learned
		r.b.tick(context.Background(), false)
	}
	const nb = 64
	traces := make([]ptrace.Traces, nb)
	logs := make([]plog.Logs, nb)
	for i := range traces {
		td, ld := ptrace.NewTraces(), plog.NewLogs()
		for n := 0; td.SpanCount()+ld.LogRecordCount() < 1000; n++ {
			t1, l1 := g.Session(i*37+n, r.clock)
			t1.ResourceSpans().MoveAndAppendTo(td.ResourceSpans())
			l1.ResourceLogs().MoveAndAppendTo(ld.ResourceLogs())
		}
		traces[i], logs[i] = td, ld
	}
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		_ = r.traces.ConsumeTraces(context.Background(), traces[i%nb])
		_ = r.logs.ConsumeLogs(context.Background(), logs[i%nb])
		n += traces[i%nb].SpanCount() + logs[i%nb].LogRecordCount()
		if i%nb == nb-1 {
			b.StopTimer()
			r.advance(2 * time.Minute)
			r.b.tick(context.Background(), false)
			r.reset()
			b.StartTimer()
		}
	}
	b.ReportMetric(float64(n)/(cpuTime()-cpu0).Seconds(), "records/cpu-s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/record")
}

// BenchmarkConsumeTracesTraceloop: the recorded Traceloop sessions of the real filesystem and everything
// servers (testdata/samples/traceloop_mcp.json: initialize, tools/list
// with 14 tools and their description hashes, reads, a denial, get-env, a
// gzip fetch, a resource read, the session spans), replayed with fresh
// trace and span ids: ~1000 spans per batch, every session new, so the
// session, agent and chain state works as on live traffic.
func BenchmarkConsumeTracesTraceloop(b *testing.B) {
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
