package detect

import (
	"fmt"
	"time"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/profile"
	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/tracestate"
)

// maxBytes bounds a sum of sender-supplied byte counts (1 PiB).
const maxBytes = 1 << 50

// egressInvocation judges the bytes one invocation sent against the
// declared cap and the learned statistic; it reports whether it fired.
func (e *Engine) egressInvocation(p *profile.Profile, inv *tracestate.Invocation, learned bool, tid [16]byte, span [8]byte, now int64) bool {
	d := e.s.Detectors.EgressVolume
	if !d.Enabled || inv.EgressBytes == 0 {
		return false
	}
	x := float64(inv.EgressBytes)
	// Built only when it fires: this runs for every invocation that sent
	// bytes.
	anomaly := func(expected string, score float64) Anomaly {
		return Anomaly{Type: TypeEgressVolume, Severity: d.Severity, ExtensionID: p.ID, Target: "invocation",
			Observed: fmt.Sprintf("%s sent in one invocation", humanBytes(x)), Expected: expected, Score: score,
			Learning: !learned, TraceID: tid, SpanID: span, Time: now}
	}
	if perInv, _ := p.Declared.EgressCaps(); perInv > 0 && inv.EgressBytes > perInv {
		e.emit(anomaly(fmt.Sprintf("at most %s (declared max_egress_bytes_per_invocation)", humanBytes(float64(perInv))), x/float64(perInv)))
		return true
	}
	if !learned || p.Egress.N < e.s.MinSamples {
		return false
	}
	f := profile.Floors{FloorAbs: d.FloorAbs, FloorRel: d.FloorRel}
	if s := p.Egress.Score(x, f); s >= d.Sigma && x >= d.MinRatio*max(p.Egress.Mean, 1) {
		// The window holding it is reported through it, and kept out of the
		// per-window statistic (no poisoning). Declared caps stay separate.
		p.WinReported = true
		e.emit(anomaly(fmt.Sprintf("at most %s (mean %s)", humanBytes(p.Egress.Threshold(d.Sigma, f)), humanBytes(p.Egress.Mean)), s))
		return true
	}
	return false
}

// egressWindow adds bytes to the extension's current window and judges
// the running total against the declared per-minute cap (scaled to the
// window) and the learned per-window statistic, once per window. A
// window closes at the first bytes after it ends; an unremarkable closed
// window feeds the statistic (windows without egress are not counted, so
// the statistic is per active window).
func (e *Engine) egressWindow(p *profile.Profile, n int64, learned bool, sp Span, now int64) {
	d := e.s.Detectors.EgressVolume
	if !d.Enabled {
		return
	}
	if now-p.WinStart >= int64(d.Window) || now < p.WinStart {
		if p.WinBytes > 0 && !p.WinReported {
			p.EgressWindow.Add(float64(p.WinBytes), e.alpha)
		}
		p.WinStart, p.WinBytes, p.WinReported = now, 0, false
	}
	p.WinBytes = min(p.WinBytes+n, maxBytes)
	if p.WinReported {
		return
	}
	x := float64(p.WinBytes)
	fire := func(expected string, score float64) {
		p.WinReported = true
		e.emit(Anomaly{Type: TypeEgressVolume, Severity: d.Severity, ExtensionID: p.ID, Target: "window",
			Observed: fmt.Sprintf("%s sent within %s", humanBytes(x), d.Window), Expected: expected, Score: score,
			Learning: !learned, TraceID: sp.TraceID, SpanID: sp.SpanID, Time: now})
	}
	if _, perMin := p.Declared.EgressCaps(); perMin > 0 {
		limit := float64(perMin) * float64(d.Window) / float64(time.Minute)
		if x > limit {
			fire(fmt.Sprintf("at most %s per %s (declared max_egress_bytes_per_minute)", humanBytes(limit), d.Window), x/limit)
			return
		}
	}
	if !learned || p.EgressWindow.N < e.s.MinSamples {
		return
	}
	f := profile.Floors{FloorAbs: d.FloorAbs, FloorRel: d.FloorRel}
	if s := p.EgressWindow.Score(x, f); s >= d.Sigma && x >= d.MinRatio*max(p.EgressWindow.Mean, 1) {
		fire(fmt.Sprintf("at most %s per %s (mean %s)", humanBytes(p.EgressWindow.Threshold(d.Sigma, f)), d.Window, humanBytes(p.EgressWindow.Mean)), s)
	}
}

// humanBytes renders a byte count in binary units.
func humanBytes(x float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	i := 0
	for x >= 1024 && i < len(units)-1 {
		x /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f B", x)
	}
	return fmt.Sprintf("%.1f %s", x, units[i])
}
