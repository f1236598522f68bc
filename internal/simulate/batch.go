package simulate

import (
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Batch returns benign invocations of consecutive extensions, starting at
// extension first, until the batch holds at least spans spans: the
// realistic mix for benchmarks and the high-rate mode.
func (g *Generator) Batch(first, spans int, t time.Time) (ptrace.Traces, plog.Logs) {
	td := ptrace.NewTraces()
	ld := plog.NewLogs()
	for i := first; td.SpanCount() < spans; i++ {
		inv, logs := g.Invocation(i, t)
		inv.ResourceSpans().MoveAndAppendTo(td.ResourceSpans())
		logs.ResourceLogs().MoveAndAppendTo(ld.ResourceLogs())
	}
	return td, ld
}
