package baselineconnector

import (
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/detect"
	"github.com/sandwatch/sandwatch/internal/identitymark"
	"github.com/sandwatch/sandwatch/internal/sandboxevent"
)

// TypeIdentityMismatch is the anomaly raised for a span or log record the
// identity processor flagged: its sender's credential does not cover the
// extension (or host) it claims. Such a record is reported, and never
// observed: it teaches no profile and feeds no detector.
const TypeIdentityMismatch = "identity_mismatch"

// identityMismatch reports a flagged record, if rec is one, and says
// whether it was (the caller then skips it). Repeats fold by (extension,
// sender) in the engine's de-duplication.
func (b *baseline) identityMismatch(resource, rec pcommon.Map, ev *sandboxevent.Event, sp detect.Span, now int64) bool {
	reason, flagged := identitymark.Check(resource, rec)
	if !flagged {
		return false
	}
	who := "unidentified sender"
	if v, ok := resource.Get(identitymark.Identity); ok && v.Str() != "" {
		who = v.Str()
	}
	b.eng.Report(detect.Anomaly{Type: TypeIdentityMismatch, Severity: detect.SeverityCritical,
		ExtensionID: detect.Clip(ev.ExtensionID), Target: detect.Clip(who),
		Observed: "sent by " + who + " (" + reason + ")", Expected: "a credential bound to this extension",
		Score: 1, TraceID: sp.TraceID, SpanID: sp.SpanID, Time: now})
	return true
}
