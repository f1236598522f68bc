package sandboxmetricsconnector

import (
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/connector/sandboxmetricsconnector/internal/aggregate"
	"github.com/sandwatch/sandwatch/internal/identitymark"
	"github.com/sandwatch/sandwatch/internal/sandboxevent"
)

// AgentsConfig bounds what the connector keeps to count agent tool calls
// right.
type AgentsConfig struct {
	// DedupeMaxCalls is how many recent calls are remembered so that a call
	// reported by the agent, the MCP client and the MCP server counts once
	// (default 32768; about 150 bytes each).
	DedupeMaxCalls int `mapstructure:"dedupe_max_calls"`
	// SessionWait is how long a span whose server is known only through
	// its session (Traceloop) is held when its session's initialize span
	// has not arrived yet (default 5s; 0 records it at once, unattributed).
	SessionWait time.Duration `mapstructure:"session_wait"`
	// MaxWaiting caps the spans held at once (default 10000); beyond it a
	// span is recorded at once, unattributed.
	MaxWaiting int `mapstructure:"max_waiting"`
}

// recordSpan records one classified span: a repeat of a counted agent
// call is dropped (the archive keeps it; only the count is once), a span
// awaiting its session is held. c.mu is held.
func (c *sandboxMetrics) recordSpan(span ptrace.Span, ev *sandboxevent.Event, rs ptrace.ResourceSpans, now int64, mayHold bool) {
	if _, flagged := identitymark.Check(rs.Resource().Attributes(), span.Attributes()); flagged {
		return // its sender may not speak for ev.ExtensionID: never its metrics
	}
	if mayHold && c.held.Add(span, ev, rs, now) {
		return
	}
	if ev.Agent.AwaitingSession {
		c.unresolved++
	}
	if sandboxevent.IsCall(ev) && c.dedupe.Repeat(ev, span.SpanID(), span.ParentSpanID()) {
		c.repeats++
		return
	}
	var sp aggregate.Span
	start, end := span.StartTimestamp(), span.EndTimestamp()
	sp.Root = span.ParentSpanID().IsEmpty()
	if end > start {
		sp.Duration = float64(end-start) / 1e9
	}
	sp.Exemplar.TraceID = span.TraceID()
	sp.Exemplar.SpanID = span.SpanID()
	sp.Exemplar.Time = end
	c.agg.RecordSpan(ev, &sp, now)
}

// releaseHeld classifies the held spans again: those whose session is now
// known, or whose wait is over (all of them when force), are recorded.
// c.mu is held.
func (c *sandboxMetrics) releaseHeld(now int64, force bool) {
	if c.held.Len() == 0 {
		return
	}
	c.held.Release(c.classifier, now, force, func(span ptrace.Span, ev *sandboxevent.Event, rs ptrace.ResourceSpans) {
		c.recordSpan(span, ev, rs, now, false)
	})
	c.agg.EndBatch()
}
