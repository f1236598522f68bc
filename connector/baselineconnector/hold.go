package baselineconnector

import (
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/detect"
	"github.com/sandwatch/sandwatch/internal/sandboxevent"
)

// heldSpan is a copy of a span whose MCP server is known only through its
// session (Traceloop) and whose session's initialize span has not arrived
// yet, with its resource, so it classifies the same later.
type heldSpan struct {
	td ptrace.Traces
	at int64
}

// holdSpan keeps a span awaiting its session's identity for up to
// agents.session_wait (bounded by agents.max_waiting); it reports whether
// it did. b.mu is held.
func (b *baseline) holdSpan(span ptrace.Span, ev *sandboxevent.Event, rs ptrace.ResourceSpans, now int64) bool {
	a := b.cfg.Agents
	if !ev.Agent.AwaitingSession || a.SessionWait <= 0 || len(b.held) >= a.MaxWaiting {
		return false
	}
	td := ptrace.NewTraces()
	r := td.ResourceSpans().AppendEmpty()
	rs.Resource().CopyTo(r.Resource())
	span.CopyTo(r.ScopeSpans().AppendEmpty().Spans().AppendEmpty())
	b.held = append(b.held, heldSpan{td: td, at: now})
	return true
}

// releaseHeldLocked classifies the held spans again: those whose session
// is now known, or whose wait is over (all when force), are observed (an
// expired one as unattributed). b.mu is held.
func (b *baseline) releaseHeldLocked(now int64, force bool) {
	if len(b.held) == 0 {
		return
	}
	wait := int64(b.cfg.Agents.SessionWait)
	kept := b.held[:0]
	var rc sandboxevent.ResourceContext
	var ev sandboxevent.Event
	for _, h := range b.held {
		rs := h.td.ResourceSpans().At(0)
		span := rs.ScopeSpans().At(0).Spans().At(0)
		b.classifier.LoadResource(rs.Resource().Attributes(), &rc)
		b.classifier.ClassifySpan(span, &rc, &ev)
		if ev.Agent.AwaitingSession && !force && now-h.at < wait {
			kept = append(kept, h)
			continue
		}
		sp := detect.Span{TraceID: span.TraceID(), SpanID: span.SpanID(), IsRoot: span.ParentSpanID().IsEmpty(),
			Start: int64(span.StartTimestamp()), End: int64(span.EndTimestamp())}
		sp.Repeat = sandboxevent.IsCall(&ev) && b.calls.Repeat(&ev, span.SpanID(), span.ParentSpanID())
		b.observe(&ev, sp, now)
	}
	for i := len(kept); i < len(b.held); i++ {
		b.held[i] = heldSpan{}
	}
	b.held = kept
}
