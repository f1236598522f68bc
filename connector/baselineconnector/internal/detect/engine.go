package detect

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/profile"
	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/tracestate"
	"github.com/sandwatch/sandwatch/internal/pathtemplate"
	"github.com/sandwatch/sandwatch/internal/sandboxevent"
)

// Settings configure an Engine.
type Settings struct {
	Detectors        Detectors
	LearnInvocations uint64
	LearnWindow      time.Duration
	// MinSamples invocations before a statistic is judged.
	MinSamples uint32
	// HalfLife of the statistics, in invocations.
	HalfLife      float64
	Limits        profile.Limits
	MaxExtensions int
	MaxTraces     int
	IdleTimeout   time.Duration
	TraceTTL      time.Duration
	DedupInterval time.Duration
	MaxDedup      int
	// Declared profiles by extension id.
	Declared  map[string]*profile.DeclaredSpec
	Templater *pathtemplate.Templater
	// TemplateHosts judges hosts on templates (TemplateHost), as paths are.
	TemplateHosts bool
	// VersionRelearn is how many invocations after a version update
	// learn new targets instead of reporting them (0 = never).
	VersionRelearn uint32
	// Sensitive paths and addresses (exfiltration, unreported_access).
	Sensitive SensitiveConfig
	// Agents bound the state of agents that chain tools (agent_config.go).
	Agents AgentSettings
	// MaxFolded is how many traces of folded repeats a dedup summary lists
	// (0 = DefaultMaxFolded).
	MaxFolded int
}

// Span is what the engine needs of a span or log record besides its
// classification.
type Span struct {
	TraceID [16]byte
	SpanID  [8]byte
	IsRoot  bool
	Start   int64 // unix ns, 0 when unknown
	End     int64
	// Repeat: the record reports an agent tool call already observed (by
	// the agent, the MCP client or the MCP server; sandboxevent's
	// CallDeduper). It is counted once: only its targets and the agent
	// detectors see it again (the server's record may carry the content
	// the agent's lacked).
	Repeat bool
}

// Anomaly is one detection.
type Anomaly struct {
	Type        string
	Rule        string // user rule name, for rule anomalies
	Severity    Severity
	ExtensionID string
	Target      string
	Observed    string
	Expected    string
	Score       float64
	Learning    bool
	TraceID     [16]byte
	SpanID      [8]byte
	Time        int64
	// Count is how many occurrences this record stands for (dedup).
	Count uint64
	// Repeat marks a dedup summary of suppressed occurrences.
	Repeat bool
	// Candidates (unreported_access): the traces of every invocation that
	// may have made the access, when several overlapped (bounded);
	// Attribution says how the record was tied to the invocation.
	Candidates  [][16]byte
	Attribution string
	// Folded are the traces of the occurrences a summary stands for (at
	// most MaxFolded), FoldedUnlisted how many more it does not list.
	Folded         []TraceRef
	FoldedUnlisted uint64
	// Agent and Session name the acting agent and its session, for the
	// anomalies of agent telemetry.
	Agent, Session string
	// Related is another trace the anomaly names (the read of a cross-tool
	// chain); zero when none.
	Related TraceRef
}

// TraceRef names one span of one trace.
type TraceRef struct {
	TraceID [16]byte
	SpanID  [8]byte
}

// Counters are the engine's own bounded telemetry.
type Counters struct {
	Evicted       uint64 // profiles evicted by max_extensions
	TracesDropped uint64 // invocations not tracked (trace table full)
	Unattributed  uint64 // events without an extension id
	Suppressed    uint64 // anomalies folded by dedup
	DedupDropped  uint64 // dedup entries that did not fit
	// LearnedLate: records learned after their extension had learned,
	// because their invocation began while it learned (stillLearning).
	LearnedLate uint64
}

// Engine runs the detectors.
type Engine struct {
	s        Settings
	alpha    float64
	profiles *simplelru.LRU[string, *profile.Profile]
	declared map[string]*profile.Declared
	traces   *tracestate.Table
	pending  []*tracestate.Invocation // root seen in this batch
	dedup    map[string]*dedupEntry
	out      []Anomaly
	C        Counters
	hosts    hostTemplates
	sens     *sensitive
	audit    *auditCheck
	agents   agentEngine
	// cur is the agent context of the event being observed, if any.
	cur agentCtx
}

type dedupEntry struct {
	last       int64
	suppressed uint64
	latest     Anomaly
	// folded are the traces of the suppressed occurrences (bounded),
	// unlisted how many more there were (fold.go).
	folded   []TraceRef
	unlisted uint64
}

// New builds an engine; declared specs must compile.
func New(s Settings) (*Engine, error) {
	e := &Engine{s: s, alpha: profile.Alpha(s.HalfLife), declared: map[string]*profile.Declared{},
		traces: tracestate.New(s.MaxTraces), dedup: map[string]*dedupEntry{}}
	lru, err := simplelru.NewLRU[string, *profile.Profile](s.MaxExtensions, func(string, *profile.Profile) { e.C.Evicted++ })
	if err != nil {
		return nil, fmt.Errorf("max_extensions: %w", err)
	}
	e.profiles = lru
	for id, spec := range s.Declared {
		d, err := spec.Compile()
		if err != nil {
			return nil, fmt.Errorf("profiles[%s].%w", id, err)
		}
		e.declared[id] = d
	}
	if e.s.Templater == nil {
		e.s.Templater, _ = pathtemplate.New(pathtemplate.Options{})
	}
	e.hosts.max = 4096
	if e.sens, err = s.Sensitive.compile(); err != nil {
		return nil, err
	}
	e.audit = newAuditCheck(s.Detectors.UnreportedAccess)
	if err := e.agents.init(&e.s.Agents); err != nil {
		return nil, err
	}
	return e, nil
}

// Drain returns the anomalies found since the last Drain (the slice is
// reused: consume it before the next call).
func (e *Engine) Drain() []Anomaly {
	out := e.out
	e.out = e.out[:0]
	return out
}

func (e *Engine) profile(id string, now int64) *profile.Profile {
	if p, ok := e.profiles.Get(id); ok {
		return p
	}
	p := profile.New(id, now)
	e.attachDeclared(p)
	e.profiles.Add(p.ID, p)
	return p
}

func (e *Engine) attachDeclared(p *profile.Profile) {
	cfg := e.s.Declared[p.ID]
	if p.Imported == nil {
		p.Declared = e.declared[p.ID]
		return
	}
	d, err := profile.Merge(cfg, p.Imported).Compile()
	if err != nil { // an imported spec that does not compile is ignored
		d = e.declared[p.ID]
	}
	p.Declared = d
}

func (e *Engine) learned(p *profile.Profile, now int64) bool {
	if !p.Learned && now-p.FirstSeen >= int64(e.s.LearnWindow) {
		p.Learned = true
	}
	return p.Learned
}

// stillLearning reports whether inv began while its extension was
// learning, not longer than trace_ttl ago: the whole of a learning
// invocation is learned, also its records that arrive after the root span
// that completed learning (log records travel apart from spans). The
// bound keeps a sender who reuses one trace ID from staying unjudged.
func (e *Engine) stillLearning(inv *tracestate.Invocation, now int64) bool {
	return inv != nil && inv.BeganLearning && now-inv.Began < int64(e.s.TraceTTL)
}

// Observe feeds one classified span or log record.
func (e *Engine) Observe(ev *sandboxevent.Event, sp Span, now int64) {
	if ev.ExtensionID == "" {
		e.C.Unattributed++
		return
	}
	id := ev.ExtensionID
	if len(id) > profile.MaxNameLen { // a hostile id must not size a profile
		id = id[:profile.MaxNameLen]
	}
	p := e.profile(id, now)
	p.LastSeen = now
	var ac agentCtx
	if ev.IsAgent() {
		e.attachBuiltin(p)
		ac = e.agentContext(ev, sp, now)
		e.cur = ac // every anomaly of this event names the agent (emit)
		defer func() { e.cur = agentCtx{} }()
	}
	learned := e.learned(p, now)
	if ev.Version != "" && ev.Version != p.Version {
		e.versionSeen(p, ev.Version, learned)
	}
	// Records without a trace id (some audit logs) have no invocation: they
	// feed the per-event detectors only.
	var inv *tracestate.Invocation
	if sp.TraceID != ([16]byte{}) {
		inv = e.traces.Get(sp.TraceID, p.ID, now, !learned)
		e.C.TracesDropped = e.traces.Dropped
		if learned && e.stillLearning(inv, now) {
			learned = false
			e.C.LearnedLate++
		}
	}
	if inv != nil && !inv.Done && !sp.Repeat {
		if inv.Spans == 0 {
			inv.FirstSpan = sp.SpanID
		}
		inv.Agent = inv.Agent || ev.IsAgent()
		inv.Spans++
		if int(ev.Kind) < len(inv.Counts) {
			inv.Counts[ev.Kind]++
		}
		switch ev.Outcome {
		case sandboxevent.OutcomeError:
			inv.Errors++
		case sandboxevent.OutcomeDenied:
			inv.Denials++
		}
		inv.Observe(sp.Start, sp.End)
		if ev.EgressBytes > 0 && ev.Outcome != sandboxevent.OutcomeDenied {
			inv.EgressBytes = min(inv.EgressBytes+ev.EgressBytes, maxBytes)
		}
		if sp.IsRoot && !inv.RootSeen {
			inv.RootSeen, inv.RootSpan = true, sp.SpanID
			e.pending = append(e.pending, inv)
		}
	}
	// A failed block's duration is its client's timeout, not the
	// extension's behaviour: only successful blocks are judged and learned.
	if ev.BlockType != "" && ev.Outcome == sandboxevent.OutcomeOK && sp.End > sp.Start && sp.Start > 0 && !sp.IsRoot && !sp.Repeat {
		e.blockDuration(p, ev.BlockType, float64(sp.End-sp.Start)/1e6, learned, sp, now)
	}
	if ev.EgressBytes > 0 && ev.Outcome != sandboxevent.OutcomeDenied && !sp.Repeat {
		e.egressWindow(p, ev.EgressBytes, learned, sp, now)
	}
	probe := ev.IsProbe()
	known := e.novelty(p, ev, probe, learned, inv, sp, now)
	if ev.IsAgent() {
		e.observeAgent(p, ev, ac, known, learned, sp, now)
	}
	if ev.Outcome == sandboxevent.OutcomeDenied && e.s.Detectors.CapabilityDenied.Enabled && !sp.Repeat {
		gate := ev.Capability
		if gate == "" {
			gate = ev.Kind.String()
		}
		target := gate
		if ev.Target != "" {
			target = gate + " " + e.norm(ev)
		}
		target = Clip(target) // also the dedup key: a sender's 1 MiB host must not be kept
		e.emit(Anomaly{Type: TypeCapabilityDenied, Severity: e.s.Detectors.CapabilityDenied.Severity, ExtensionID: p.ID,
			Target: target, Observed: "denied " + target, Expected: "no denied capability decisions", Score: 1,
			Learning: !learned, TraceID: sp.TraceID, SpanID: sp.SpanID, Time: now})
	}
	if probe && !sp.Repeat {
		// An MCP server is shared by every agent that runs it: its window
		// across invocations counts denials only, not the missing files
		// and 404s of many agents' ordinary work (agentDenied keeps the
		// window per agent).
		windowed := !ev.IsAgent() || ev.Outcome == sandboxevent.OutcomeDenied
		e.recon(p, inv, learned, windowed, sp, now)
	}
}

// norm returns the event's target as profiles hold it (path templates,
// hosts as the event model normalised them).
func (e *Engine) norm(ev *sandboxevent.Event) string {
	if ev.TargetType == sandboxevent.TargetPath {
		t, _ := e.s.Templater.Apply(ev.Target)
		return t
	}
	if ev.TargetType == sandboxevent.TargetHost && e.s.TemplateHosts {
		return e.hosts.get(ev.Target)
	}
	return ev.Target
}

func classOf(ev *sandboxevent.Event) (profile.Class, bool) {
	switch ev.TargetType {
	case sandboxevent.TargetHost:
		return profile.ClassHost, true
	case sandboxevent.TargetPath:
		return profile.ClassPath, true
	case sandboxevent.TargetTable:
		return profile.ClassTable, true
	case sandboxevent.TargetLibrary:
		return profile.ClassLibrary, true
	}
	return 0, false
}

var noveltyType = [profile.NumClasses]string{TypeNewDestination, TypeNewPath, TypeNewTable, TypeNewCapability, TypeNewCapability}

func (e *Engine) toggle(c profile.Class) Toggle {
	switch c {
	case profile.ClassHost:
		return e.s.Detectors.NewDestination
	case profile.ClassPath:
		return e.s.Detectors.NewPath
	case profile.ClassTable:
		return e.s.Detectors.NewTable
	}
	return e.s.Detectors.NewCapability
}

// novelty learns or judges the event's target and capability, and keeps
// the exfiltration state of the invocation. It reports whether the
// target was in the profile (true when there is none to judge).
func (e *Engine) novelty(p *profile.Profile, ev *sandboxevent.Event, probe, learned bool, inv *tracestate.Invocation, sp Span, now int64) bool {
	denied := ev.Outcome == sandboxevent.OutcomeDenied
	if ev.Capability != "" && !denied {
		e.judge(p, profile.ClassCapability, ev.Capability, learned, sp, now)
	}
	c, ok := classOf(ev)
	if !ok || ev.Target == "" || denied {
		return true
	}
	// A failed probe of a path or table is recon's signal, not a habit.
	if probe && c != profile.ClassHost {
		return true
	}
	target := e.norm(ev)
	known := e.judgeRaw(p, c, target, ev.Target, learned, sp, now)
	if !e.s.Detectors.Exfiltration.Enabled {
		return known
	}
	if c == profile.ClassPath && ev.Outcome == sandboxevent.OutcomeOK && ev.IsRead() {
		e.rememberRead(p, ev, target, known, sp, now)
	}
	if inv == nil {
		return known
	}
	if ev.Outcome == sandboxevent.OutcomeOK && ev.IsRead() && !inv.Read {
		inv.Read, inv.ReadTarget = true, Clip(target)
	}
	if c == profile.ClassHost && !known && ev.IsEgress() && !inv.Egress && (learned || p.Declared.Has(profile.ClassHost)) {
		inv.Egress, inv.EgressHost, inv.EgressSpan, inv.EgressOp = true, Clip(target), sp.SpanID, Clip(strings.ToUpper(ev.Operation))
	}
	if c == profile.ClassHost && !known && ev.IsEgress() && !inv.Read && !inv.ExfilReported && (learned || p.Declared.Has(profile.ClassHost)) {
		e.exfilAcross(p, inv, ev, target, sp, now)
	}
	if inv.Read && inv.Egress && !inv.ExfilReported {
		inv.ExfilReported = true
		e.emit(Anomaly{Type: TypeExfiltration, Severity: e.s.Detectors.Exfiltration.Severity, ExtensionID: p.ID,
			Target: inv.EgressHost, Observed: fmt.Sprintf("read %s then %s to %s in one trace", inv.ReadTarget, orConnect(inv.EgressOp), inv.EgressHost),
			Expected: fmt.Sprintf("egress only to profile hosts (%d learned)", p.Sets[profile.ClassHost].Len()), Score: 1,
			Learning: !learned, TraceID: sp.TraceID, SpanID: inv.EgressSpan, Time: now})
	}
	return known
}

func orConnect(op string) string {
	if op == "" {
		return "connect"
	}
	return op
}

// judge reports whether target is in p's profile (learned or declared);
// during learning an undeclared class learns it, after learning (or
// outside a declared allowlist) a novel target is an anomaly.
func (e *Engine) judge(p *profile.Profile, c profile.Class, target string, learned bool, sp Span, now int64) bool {
	return e.judgeRaw(p, c, target, target, learned, sp, now)
}

// judgeRaw is judge for a target that was templated from raw: a declared
// host pattern is matched on the raw name, and a profile saved before
// host templating (holding raw names) still knows its hosts.
func (e *Engine) judgeRaw(p *profile.Profile, c profile.Class, target, raw string, learned bool, sp Span, now int64) bool {
	h := profile.Hash(target)
	if p.Sets[c].Contains(h) || p.Declared.Match(c, target) {
		return true
	}
	if c == profile.ClassHost && e.knownHost(p, target, raw) {
		return true
	}
	declared := p.Declared.Has(c)
	if !learned && !declared {
		p.Sets[c].Add(h, target, e.s.Limits.MaxTargets[c])
		return true
	}
	if p.Relearn > 0 && !declared && (c == profile.ClassPath || c == profile.ClassHost && knownDomain(p, target)) {
		// After a version update: learn quietly, but the target is still
		// new to this invocation (exfiltration judges it so).
		p.Sets[c].Add(h, target, e.s.Limits.MaxTargets[c])
		return false
	}
	if t := e.toggle(c); t.Enabled && (declared || !e.agentTargetQuiet()) {
		exp := fmt.Sprintf("one of %d learned %s", p.Sets[c].Len(), c)
		if declared {
			exp += " or the declared patterns"
		}
		e.emit(Anomaly{Type: noveltyType[c], Severity: t.Severity, ExtensionID: p.ID, Target: Clip(target),
			Observed: singular(c) + " " + Clip(target), Expected: exp, Score: 1, Learning: !learned,
			TraceID: sp.TraceID, SpanID: sp.SpanID, Time: now})
	}
	return false
}

// probeFloors scale the learned probe rate with no absolute floor:
// min_probes is that floor. An absolute one (1 x sigma 6 = 6) would lift a
// clean extension's threshold above min_probes (5) the moment it is
// learned; the relative floor still spaces a steady prober's threshold
// (3 per invocation: 3 + 6 x 1.5 = 12).
var probeFloors = profile.Floors{FloorRel: 0.5}

func (e *Engine) recon(p *profile.Profile, inv *tracestate.Invocation, learned, windowed bool, sp Span, now int64) {
	d := e.s.Detectors.Recon
	if inv != nil {
		inv.Probes++
	}
	if now-p.WindowStart > int64(d.Window) {
		p.WindowStart, p.WindowCount = now, 0
	}
	if windowed {
		p.WindowCount++
	}
	if !d.Enabled {
		return
	}
	thr := float64(d.MinProbes)
	if learned && p.Probes.N >= e.s.MinSamples {
		thr = max(thr, math.Ceil(p.Probes.Threshold(d.Sigma, probeFloors)))
	}
	if inv != nil && !inv.ReconReported && float64(inv.Probes) >= thr {
		inv.ReconReported = true
		e.emit(Anomaly{Type: TypeRecon, Severity: d.Severity, ExtensionID: p.ID, Target: "invocation",
			Observed: fmt.Sprintf("%d failed attempts (EACCES/EPERM/ENOENT/401/403/404/denied) in one invocation", inv.Probes),
			Expected: fmt.Sprintf("fewer than %.0f (learned mean %.1f)", thr, p.Probes.Mean), Score: float64(inv.Probes) / thr,
			Learning: !learned, TraceID: sp.TraceID, SpanID: sp.SpanID, Time: now})
		return
	}
	if windowed && p.WindowCount == d.WindowProbes && (inv == nil || !inv.ReconReported) {
		e.emit(Anomaly{Type: TypeRecon, Severity: d.Severity, ExtensionID: p.ID, Target: "window",
			Observed: fmt.Sprintf("%d failed attempts within %s", p.WindowCount, d.Window),
			Expected: fmt.Sprintf("fewer than %d per %s", d.WindowProbes, d.Window), Score: float64(p.WindowCount) / float64(d.WindowProbes),
			Learning: !learned, TraceID: sp.TraceID, SpanID: sp.SpanID, Time: now})
	}
}

func (e *Engine) blockDuration(p *profile.Profile, block string, ms float64, learned bool, sp Span, now int64) {
	st := p.Block(block)
	if st == nil {
		return
	}
	d := e.s.Detectors.DurationOutlier
	if d.Enabled && learned && st.N >= e.s.MinSamples {
		f := profile.Floors{FloorAbs: d.FloorAbs, FloorRel: d.FloorRel}
		if score := st.Score(ms, f); score >= d.Sigma && ms >= d.MinRatio*max(st.Mean, 1) {
			e.emit(Anomaly{Type: TypeDurationOutlier, Severity: d.Severity, ExtensionID: p.ID, Target: "block " + Clip(block),
				Observed: fmt.Sprintf("%s took %.1f ms", Clip(block), ms), Expected: fmt.Sprintf("at most %.1f ms (mean %.1f)", st.Threshold(d.Sigma, f), st.Mean),
				Score: score, Learning: false, TraceID: sp.TraceID, SpanID: sp.SpanID, Time: now})
			return // an outlier does not move its baseline
		}
	}
	st.Add(ms, e.alpha)
}

// EndBatch judges the invocations whose root span arrived in this batch:
// the root ends last, so its arrival means the invocation is complete.
func (e *Engine) EndBatch(now int64) {
	for _, inv := range e.pending {
		if !inv.Done {
			inv.Done = true
			e.finalize(inv, now)
		}
	}
	clear(e.pending)
	e.pending = e.pending[:0]
}

// Tick judges idle invocations, forgets expired traces and emits dedup
// summaries; call it a few times per idle timeout.
func (e *Engine) Tick(now int64) {
	e.EndBatch(now)
	e.traces.Sweep(now, int64(e.s.IdleTimeout), int64(e.s.TraceTTL), func(inv *tracestate.Invocation) { e.finalize(inv, now) })
	e.C.TracesDropped = e.traces.Dropped
	e.judgeAccesses(now, false)
	e.flushDedup(now, false)
}

// Flush judges every open invocation now (shutdown).
func (e *Engine) Flush(now int64) {
	e.EndBatch(now)
	e.traces.Sweep(now, 0, 0, func(inv *tracestate.Invocation) { e.finalize(inv, now) })
	e.judgeAccesses(now, true)
	e.flushDedup(now, true)
}

var kindNames = profile.KindNames

func (e *Engine) finalize(inv *tracestate.Invocation, now int64) {
	p, ok := e.profiles.Peek(inv.Ext)
	if !ok {
		return
	}
	learned := e.learned(p, now)
	span := inv.RootSpan
	if !inv.RootSeen {
		span = inv.FirstSpan
	}
	tid := inv.TraceID
	anomalous := false
	if v := e.s.Detectors.VolumeSpike; v.Enabled && learned {
		f := profile.Floors{FloorAbs: v.FloorAbs, FloorRel: v.FloorRel}
		best, bestK := 0.0, -1
		for k := range inv.Counts {
			st := &p.Counts[k]
			x := float64(inv.Counts[k])
			if st.N < e.s.MinSamples {
				continue
			}
			if s := st.Score(x, f); s >= v.Sigma && x >= v.MinRatio*max(st.Mean, 1) && s > best {
				best, bestK = s, k
			}
		}
		if bestK >= 0 {
			anomalous = true
			st := &p.Counts[bestK]
			e.emit(Anomaly{Type: TypeVolumeSpike, Severity: v.Severity, ExtensionID: p.ID, Target: kindNames[bestK],
				Observed: fmt.Sprintf("%d %s operations in one invocation", inv.Counts[bestK], kindNames[bestK]),
				Expected: fmt.Sprintf("at most %.1f (mean %.1f)", st.Threshold(v.Sigma, f), st.Mean), Score: best,
				TraceID: tid, SpanID: span, Time: now})
		}
	}
	ms := inv.DurationMillis()
	if inv.Agent {
		ms = 0 // the agent's think time, not the server's work (per-call durations are still judged)
	}
	if d := e.s.Detectors.DurationOutlier; d.Enabled && learned && ms > 0 && p.Duration.N >= e.s.MinSamples {
		f := profile.Floors{FloorAbs: d.FloorAbs, FloorRel: d.FloorRel}
		if s := p.Duration.Score(ms, f); s >= d.Sigma && ms >= d.MinRatio*max(p.Duration.Mean, 1) {
			anomalous = true
			e.emit(Anomaly{Type: TypeDurationOutlier, Severity: d.Severity, ExtensionID: p.ID, Target: "invocation",
				Observed: fmt.Sprintf("invocation took %.1f ms", ms),
				Expected: fmt.Sprintf("at most %.1f ms (mean %.1f)", p.Duration.Threshold(d.Sigma, f), p.Duration.Mean), Score: s,
				TraceID: tid, SpanID: span, Time: now})
		}
	}
	if e.egressInvocation(p, inv, learned, tid, span, now) {
		anomalous = true
	}
	if p.Relearn > 0 {
		p.Relearn--
	}
	if p.Tools.Relearn > 0 {
		p.Tools.Relearn--
	}
	if !anomalous && !inv.ReconReported && !inv.ExfilReported {
		for k := range inv.Counts {
			p.Counts[k].Add(float64(inv.Counts[k]), e.alpha)
		}
		if ms > 0 {
			p.Duration.Add(ms, e.alpha)
		}
		p.Probes.Add(float64(inv.Probes), e.alpha)
		p.Errors.Add(float64(inv.Errors), e.alpha)
		p.Denials.Add(float64(inv.Denials), e.alpha)
		p.Egress.Add(float64(inv.EgressBytes), e.alpha)
	}
	p.Invocations++
	if !p.Learned && p.Invocations >= e.s.LearnInvocations {
		p.Learned = true
	}
}

// Clip bounds a name a sender controls (extension id, target) to
// profile.MaxNameLen and copies it out of pdata memory.
func Clip(s string) string {
	if len(s) > profile.MaxNameLen {
		s = s[:profile.MaxNameLen]
	}
	return strings.Clone(s)
}

// singular names one target of a class: "capability", "library", "host".
func singular(c profile.Class) string {
	name := c.String()
	if n, ok := strings.CutSuffix(name, "ies"); ok {
		return n + "y"
	}
	return strings.TrimSuffix(name, "s")
}
