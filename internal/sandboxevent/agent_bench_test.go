package sandboxevent

import (
	"runtime"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/procstat"
	"github.com/sandwatch/sandwatch/internal/simulate"
)

// BenchmarkClassifyMix classifies whole batches (EachSpan and EachLog, as
// the connectors do) of three mixes side by side and reports the cost per
// record: the simulator's sandbox-extension mix (noise 1), the agent mix
// (every emitter, content capture on for half the agents, _meta for half
// of the MCP ones) and the agent mix with content capture everywhere.
// Target: the agent mix within 1.5x of the simulator's per record.
//
//	go test -run '^$' -bench ClassifyMix -benchtime 2s ./internal/sandboxevent/
func BenchmarkClassifyMix(b *testing.B) {
	type batch struct {
		td ptrace.Traces
		ld plog.Logs
		n  int
	}
	mixes := []struct {
		name  string
		build func(i int, t time.Time) (ptrace.Traces, plog.Logs)
	}{
		{"simulator", simulate.New(simulate.Options{Seed: 1, Extensions: 50, Noise: 1}).Invocation},
		{"agents", simulate.NewAgents(simulate.AgentOptions{Seed: 1, Agents: 48, Noise: 1}).Session},
		{"agents-content", simulate.NewAgents(simulate.AgentOptions{Seed: 1, Agents: 48, Content: 1, Noise: 1}).Session},
	}
	for _, mix := range mixes {
		b.Run(mix.name, func(b *testing.B) {
			var batches []batch
			for i := 0; i < 400; i++ {
				td, ld := mix.build(i, time.Unix(1795000000, 0))
				batches = append(batches, batch{td, ld, td.SpanCount() + ld.LogRecordCount()})
			}
			c := MustNew(Config{})
			records := 0
			var sink int
			spanFn := func(_ ptrace.Span, ev *Event, _ ptrace.ResourceSpans, _ ptrace.ScopeSpans) { sink += int(ev.Kind) }
			logFn := func(_ plog.LogRecord, ev *Event, _ plog.ResourceLogs, _ plog.ScopeLogs) { sink += int(ev.Kind) }
			// The thread's CPU time, not wall time: on a shared machine
			// wall time measures the neighbours too.
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			b.ReportAllocs()
			b.ResetTimer()
			t0 := procstat.ThreadCPU()
			for i := 0; i < b.N; i++ {
				bt := batches[i%len(batches)]
				c.EachSpan(bt.td, spanFn)
				c.EachLog(bt.ld, logFn)
				records += bt.n
			}
			cpu := procstat.ThreadCPU() - t0
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(records), "cpu-ns/record")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(records), "ns/record")
			b.ReportMetric(float64(records)/float64(b.N), "records/batch")
			_ = sink
		})
	}
}
