package detect

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/profile"
	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/tracestate"
	"github.com/sandwatch/sandwatch/internal/sandboxevent"
)

// rememberRead keeps a read of a sensitive path, or of a path template
// the learned extension never used, for exfiltration across invocations.
func (e *Engine) rememberRead(p *profile.Profile, ev *sandboxevent.Event, template string, known bool, sp Span, now int64) {
	if sp.TraceID == ([16]byte{}) {
		return
	}
	// Sensitivity is judged on the template: raw paths are unique per read
	// (a number, an id) and would defeat the verdict cache; templating
	// keeps what the globs look at (/proc/1/environ -> /proc/*/environ).
	// The template is also what the anomaly names (hot-path records carry
	// templated targets).
	if known && !e.sens.path(template) {
		return
	}
	p.Reads.Add(profile.Read{Target: Clip(template), TraceID: sp.TraceID, SpanID: sp.SpanID, Time: now}, e.s.Detectors.Exfiltration.MaxReads)
}

// exfilAcross reports egress to a host outside the profile from an
// invocation that read nothing itself, when the extension read a
// remembered path in another trace within the horizon.
func (e *Engine) exfilAcross(p *profile.Profile, inv *tracestate.Invocation, ev *sandboxevent.Event, host string, sp Span, now int64) {
	d := e.s.Detectors.Exfiltration
	r := p.Reads.Latest(sp.TraceID, now-int64(d.Horizon))
	if r == nil {
		return
	}
	r.Reported, inv.ExfilReported = true, true
	op := orConnect(Clip(strings.ToUpper(ev.Operation)))
	e.emit(Anomaly{Type: TypeExfiltration, Severity: d.Severity, ExtensionID: p.ID, Target: Clip(host),
		Observed: fmt.Sprintf("read %s in trace %s, then %s to %s in trace %s %s later", r.Target, hex.EncodeToString(r.TraceID[:]),
			op, Clip(host), hex.EncodeToString(sp.TraceID[:]), time.Duration(now-r.Time).Round(time.Millisecond)),
		Expected: fmt.Sprintf("egress only to profile hosts (%d learned) within %s of a sensitive or new read", p.Sets[profile.ClassHost].Len(), d.Horizon),
		Score:    1, Learning: false, TraceID: sp.TraceID, SpanID: sp.SpanID, Time: now})
}
