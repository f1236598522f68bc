package baselineconnector

import (
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/detect"
	"github.com/sandwatch/sandwatch/internal/sandboxevent"
)

// The spans whose MCP server is known only through their session
// (Traceloop) wait in b.held (sandboxevent.SpanHold) for up to
// agents.session_wait, at most agents.max_waiting at once.

// releaseHeldLocked classifies the held spans again: those whose session
// is now known, or whose wait is over (all when force), are observed (an
// expired one as unattributed). b.mu is held.
func (b *baseline) releaseHeldLocked(now int64, force bool) {
	b.held.Release(b.classifier, now, force, func(span ptrace.Span, ev *sandboxevent.Event, _ ptrace.ResourceSpans) {
		sp := detect.Span{TraceID: span.TraceID(), SpanID: span.SpanID(), IsRoot: span.ParentSpanID().IsEmpty(),
			Start: int64(span.StartTimestamp()), End: int64(span.EndTimestamp())}
		sp.Repeat = sandboxevent.IsCall(ev) && b.calls.Repeat(ev, span.SpanID(), span.ParentSpanID())
		b.observe(ev, sp, now)
	})
}
