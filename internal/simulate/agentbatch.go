package simulate

import (
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// AgentBatch is one request's worth of agent telemetry: spans or log
// records, never both (OTLP exports them to different services).
type AgentBatch struct {
	Traces ptrace.Traces
	Logs   plog.Logs
}

// Records is the batch's spans plus log records.
func (b AgentBatch) Records() int { return b.Traces.SpanCount() + b.Logs.LogRecordCount() }

// Batches cuts benign sessions of agents 0, 1, 2, ... (round robin, as
// many rounds as it takes) into batches of about size records each, spans
// and log records apart, until there are at least n batches and they hold
// at least calls tool calls between them; the batches still part-full then
// are kept too, so that over the whole list spans and log records stand
// in the proportion the generator produces them. A session is never
// split, so a batch holds at most one session more than size. This is the
// agent mix of the high-rate mode and the benchmarks, which cycle through
// the batches: calls asks for a cycle long enough that a collector has
// forgotten a call (its span and call ids) before it comes again, as it
// would a retry's.
func (g *AgentGenerator) Batches(n, size, calls int, t time.Time) []AgentBatch {
	var out []AgentBatch
	td, ld := ptrace.NewTraces(), plog.NewLogs()
	made := 0
	for i := 0; len(out) < n || made < calls; i++ {
		s, l, c := g.session(i, t)
		made += c
		s.ResourceSpans().MoveAndAppendTo(td.ResourceSpans())
		l.ResourceLogs().MoveAndAppendTo(ld.ResourceLogs())
		if td.SpanCount() >= size {
			out = append(out, AgentBatch{Traces: td, Logs: plog.NewLogs()})
			td = ptrace.NewTraces()
		}
		if ld.LogRecordCount() >= size {
			out = append(out, AgentBatch{Traces: ptrace.NewTraces(), Logs: ld})
			ld = plog.NewLogs()
		}
	}
	if td.SpanCount() > 0 {
		out = append(out, AgentBatch{Traces: td, Logs: plog.NewLogs()})
	}
	if ld.LogRecordCount() > 0 {
		out = append(out, AgentBatch{Traces: ptrace.NewTraces(), Logs: ld})
	}
	return out
}
