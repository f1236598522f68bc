package sandboxevent

import (
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// SpanHold keeps the spans whose MCP server is known only through their
// session (Traceloop: initialize names the server, the tools/call spans
// of the same mcp.client.session do not) while that session's initialize
// span has not arrived yet. Each held span is a copy with its resource,
// so it classifies the same later. Memory is bounded: at most max spans,
// each for at most wait. The connectors that hold (baseline,
// sandbox_metrics) decide what a released span is; the holding is here.
type SpanHold struct {
	wait time.Duration
	max  int
	held []heldSpan
}

type heldSpan struct {
	td ptrace.Traces
	at int64
}

// NewSpanHold holds spans for up to wait (0: never held), at most maxSpans
// at once.
func NewSpanHold(wait time.Duration, maxSpans int) SpanHold {
	return SpanHold{wait: wait, max: maxSpans}
}

// Len is the number of spans held.
func (h *SpanHold) Len() int { return len(h.held) }

// Add keeps a copy of span (with rs's resource) when ev awaits its
// session and there is room; it reports whether it did. A span it does
// not keep is the caller's to record at once, unattributed.
func (h *SpanHold) Add(span ptrace.Span, ev *Event, rs ptrace.ResourceSpans, now int64) bool {
	if !ev.Agent.AwaitingSession || h.wait <= 0 || len(h.held) >= h.max {
		return false
	}
	td := ptrace.NewTraces()
	r := td.ResourceSpans().AppendEmpty()
	rs.Resource().CopyTo(r.Resource())
	span.CopyTo(r.ScopeSpans().AppendEmpty().Spans().AppendEmpty())
	h.held = append(h.held, heldSpan{td: td, at: now})
	return true
}

// Release classifies the held spans again with c and hands to release
// those whose session is now known or whose wait is over (all of them
// when force), in the order they were held; ev.Agent.AwaitingSession
// tells an expired one. The others stay. release must not call Add.
func (h *SpanHold) Release(c *Classifier, now int64, force bool, release func(span ptrace.Span, ev *Event, rs ptrace.ResourceSpans)) {
	if len(h.held) == 0 {
		return
	}
	wait := int64(h.wait)
	kept := h.held[:0]
	var rc ResourceContext
	var ev Event
	for _, s := range h.held {
		rs := s.td.ResourceSpans().At(0)
		span := rs.ScopeSpans().At(0).Spans().At(0)
		c.LoadResource(rs.Resource().Attributes(), &rc)
		c.ClassifySpan(span, &rc, &ev)
		if ev.Agent.AwaitingSession && !force && now-s.at < wait {
			kept = append(kept, s)
			continue
		}
		release(span, &ev, rs)
	}
	for i := len(kept); i < len(h.held); i++ {
		h.held[i] = heldSpan{} // the released copies are garbage
	}
	h.held = kept
}
