package sandboxmetricsconnector

import (
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/connector/sandboxmetricsconnector/internal/aggregate"
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

// heldSpan is a copy of a span waiting for its session's identity, with
// its resource (so it classifies the same later).
type heldSpan struct {
	td ptrace.Traces
	at int64
}

// recordSpan records one classified span: a repeat of a counted agent
// call is dropped (the archive keeps it; only the count is once), a span
// awaiting its session is held. c.mu is held.
func (c *sandboxMetrics) recordSpan(span ptrace.Span, ev *sandboxevent.Event, rs ptrace.ResourceSpans, now int64, mayHold bool) {
	if ev.Agent.AwaitingSession && mayHold && c.cfg.Agents.SessionWait > 0 {
		if len(c.held) < c.cfg.Agents.MaxWaiting {
			td := ptrace.NewTraces()
			r := td.ResourceSpans().AppendEmpty()
			rs.Resource().CopyTo(r.Resource())
			span.CopyTo(r.ScopeSpans().AppendEmpty().Spans().AppendEmpty())
			c.held = append(c.held, heldSpan{td: td, at: now})
			return
		}
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
	if len(c.held) == 0 {
		return
	}
	wait := int64(c.cfg.Agents.SessionWait)
	kept := c.held[:0]
	var rc sandboxevent.ResourceContext
	var ev sandboxevent.Event
	for _, h := range c.held {
		rs := h.td.ResourceSpans().At(0)
		span := rs.ScopeSpans().At(0).Spans().At(0)
		c.classifier.LoadResource(rs.Resource().Attributes(), &rc)
		c.classifier.ClassifySpan(span, &rc, &ev)
		if ev.Agent.AwaitingSession && !force && now-h.at < wait {
			kept = append(kept, h)
			continue
		}
		c.recordSpan(span, &ev, rs, now, false)
	}
	for i := len(kept); i < len(c.held); i++ {
		c.held[i] = heldSpan{}
	}
	c.held = kept
	c.agg.EndBatch()
}
