package detect

import (
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/profile"
)

// Attribution confidences an unreported_access anomaly states.
const (
	// The record names the process (auditd, Falco with proc.pid,
	// Tetragon) and one invocation of it held the time.
	AttributionProcess = "process"
	// The record names the thread, and one invocation's spans ran on it.
	AttributionThread = "thread"
	// Several invocations of the process overlapped: each is named.
	AttributionConcurrent = "concurrent"
	// No pid (a stock Falco rule): the record's container.id matched the
	// spans' resource container.id.
	AttributionContainer = "container"
	// No pid and no container match: the host and the time window only.
	AttributionHostTime = "host_time"
)

// candidate is an invocation that may have made an access.
type candidate struct {
	p  *proc
	iv *procInvocation
}

// ObserveContainer records the container.id of a sandbox host process's
// resource, for records that carry no pid (stock Falco rules).
func (e *Engine) ObserveContainer(pr Process, id string) {
	if p, ok := e.audit.procs.Peek(pr); ok && id != "" && p.container != id {
		p.container = Clip(id)
	}
}

// ObserveThread records that a span of trace tid ran on thread threadID
// (the span's thread.id), so a record that names its thread (Falco
// thread.tid, Tetragon process.tid) is attributed to that invocation.
func (e *Engine) ObserveThread(pr Process, tid [16]byte, threadID int64) {
	p, ok := e.audit.procs.Peek(pr)
	if !ok || threadID == 0 {
		return
	}
	if p.last < len(p.invs) && p.invs[p.last].trace == tid {
		p.invs[p.last].addThread(threadID)
		return
	}
	for i := len(p.invs) - 1; i >= 0; i-- {
		if p.invs[i].trace == tid {
			p.invs[i].addThread(threadID)
			return
		}
	}
}

// locate finds the sandbox host processes an access may belong to: the
// process (or its parent) when the record has a pid; else the processes
// whose container id matches, else every process of the host.
func (ac *auditCheck) locate(a *Access) ([]*proc, string) {
	if a.PID != 0 {
		if p, ok := ac.procs.Peek(Process{a.Host, a.PID}); ok {
			return []*proc{p}, AttributionProcess
		}
		if a.PPID != 0 { // a helper the host process spawned
			if p, ok := ac.procs.Peek(Process{a.Host, a.PPID}); ok {
				return []*proc{p}, AttributionProcess
			}
		}
		return nil, ""
	}
	var byContainer, byHost []*proc
	for _, k := range ac.procs.Keys() {
		p, _ := ac.procs.Peek(k)
		if a.ContainerID != "" && p.container != "" && sameContainer(a.ContainerID, p.container) {
			byContainer = append(byContainer, p)
		} else if a.Host != "" && p.host == a.Host {
			byHost = append(byHost, p)
		}
	}
	if len(byContainer) > 0 {
		return byContainer, AttributionContainer
	}
	return byHost, AttributionHostTime
}

// sameContainer: Falco writes the 12-character short id, runtimes the
// full 64; one is a prefix of the other.
func sameContainer(a, b string) bool {
	if len(a) < 12 || len(b) < 12 {
		return a == b
	}
	return strings.HasPrefix(a, b) || strings.HasPrefix(b, a)
}

// overlapping lists the invocations of procs whose range, widened by
// slack, holds t: latest started first.
func overlapping(procs []*proc, t, slack int64) []candidate {
	var out []candidate
	for _, p := range procs {
		for i := range p.invs {
			iv := &p.invs[i]
			if t >= iv.start-slack && t <= iv.end+slack {
				out = append(out, candidate{p, iv})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].iv.start > out[j].iv.start })
	return out
}

func (e *Engine) judgeAccess(a *Access, now int64) {
	ac := e.audit
	ac.Judged++
	slack := int64(ac.d.Slack)
	procs, how := ac.locate(a)
	cands := overlapping(procs, a.Time, slack)
	target := a.Target
	switch {
	case a.Net:
	case a.Unresolved:
		target = "…/" + strings.TrimPrefix(a.Target, "./")
	default:
		target, _ = e.s.Templater.Apply(a.Target)
	}
	bgKey := a.Host + "\x00" + a.Exe
	if len(cands) == 0 {
		if a.PID == 0 {
			ac.uncorrelated(a.Rule)
		} else {
			ac.learnBackground(bgKey, target)
		}
		return
	}
	for _, c := range cands {
		if c.p.reportedSince(a.Target, c.iv.start-slack) {
			return
		}
	}
	if a.TID != 0 {
		var on []candidate
		for _, c := range cands {
			if c.iv.ranOn(a.TID) {
				on = append(on, c)
			}
		}
		if len(on) > 0 {
			cands = on
			if len(on) == 1 {
				how = AttributionThread
			}
		}
	}
	if how == AttributionProcess && len(cands) > 1 {
		how = AttributionConcurrent
	}
	iv := cands[0].iv
	sens := (a.Net && e.sens.addr(a.Target)) || (!a.Net && e.sens.path(target))
	bg := ac.background[bgKey][target]
	if sens && bg >= ac.d.Steady || !sens && (bg > 0 || ac.runtime[bgKey][target].invocations >= 2) {
		return
	}
	pf, known := e.profiles.Peek(iv.ext)
	if !sens {
		if known && !pf.Learned && !a.Net && !a.Exec {
			// The runtime's own opens during invocations (its module
			// files) are learned while the extension learns.
			ac.learnRuntime(bgKey, target, iv.trace)
		}
		// Outside the extension's profile: files only (the kernel records
		// addresses, spans record names; spans name commands, not the
		// binaries an exec runs), and only for a learned profile.
		if a.Net || a.Exec || a.Unresolved || !known || !pf.Learned || pf.Sets[profile.ClassPath].Contains(profile.Hash(target)) || pf.Declared.Match(profile.ClassPath, target) {
			return
		}
	}
	e.emit(Anomaly{Type: TypeUnreportedAccess, Severity: ac.d.Severity, ExtensionID: iv.ext, Target: Clip(target),
		Observed: observation(a, target, sens, cands, how, ac.d.MaxCandidates),
		Expected: "every file open, exec and connect of an invocation reported by a span",
		Score:    1, Learning: known && !pf.Learned,
		TraceID: iv.trace, SpanID: iv.span, Time: now,
		Candidates: candidateTraces(cands, ac.d.MaxCandidates), Attribution: how})
}

// observation says what the kernel saw, by whom, and which invocations
// may have done it, with their trace ids.
func observation(a *Access, target string, sens bool, cands []candidate, how string, max int) string {
	why := "outside the extension's profile"
	if sens {
		why = "sensitive"
	}
	verb := "open"
	switch {
	case a.Net:
		verb = "connect to"
	case a.Exec:
		verb = "exec"
	case a.Syscall == "connect":
		verb = "connect to socket"
	}
	if a.Failed {
		verb = "failed " + verb
	}
	src := "kernel audit"
	if a.Source != "" && a.Source != "auditd" {
		src = "kernel audit (" + a.Source + ")"
	}
	who := fmt.Sprintf("pid %d", a.PID)
	if a.PID == 0 {
		who = "an unknown pid"
		if a.Rule != "" {
			who += " (rule " + a.Rule + ")"
		}
	}
	if a.TID != 0 {
		who += fmt.Sprintf(" thread %d", a.TID)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s %s (%s) by %s %s on %s (%s) during ", src, verb, target, why, who, a.Exe, a.Host, a.Syscall)
	switch how {
	case AttributionContainer:
		b.WriteString("an invocation in its container (attributed by container.id, not by pid)")
	case AttributionHostTime:
		b.WriteString("an invocation on its host (attributed by host and time only, not by pid)")
	case AttributionThread:
		b.WriteString("the invocation that ran on that thread")
	default:
		b.WriteString("the invocation")
	}
	if len(cands) > 1 {
		fmt.Fprintf(&b, "; the latest of %d concurrent invocations of the process is named, candidates:", len(cands))
		for i, c := range cands {
			if i == max {
				fmt.Fprintf(&b, " and %d more", len(cands)-max)
				break
			}
			fmt.Fprintf(&b, " %s (%s)", hex.EncodeToString(c.iv.trace[:]), c.iv.ext)
		}
	}
	b.WriteString("; no span reports it")
	return b.String()
}

func candidateTraces(cands []candidate, max int) [][16]byte {
	if len(cands) < 2 {
		return nil
	}
	out := make([][16]byte, 0, min(len(cands), max))
	for _, c := range cands {
		if len(out) == max {
			break
		}
		out = append(out, c.iv.trace)
	}
	return out
}

// uncorrelated counts a pid-less record no sandbox process matched and
// queues its rule to be logged once.
func (ac *auditCheck) uncorrelated(rule string) {
	ac.Uncorrelated++
	if rule == "" {
		rule = "(no rule)"
	}
	if !ac.loggedRules[rule] && len(ac.loggedRules) < maxLoggedRules {
		ac.loggedRules[rule] = true
		ac.uncorrelatedRules = append(ac.uncorrelatedRules, Clip(rule))
	}
}

// maxLoggedRules bounds the rules logged once each.
const maxLoggedRules = 256

// DrainUncorrelatedRules returns the rules whose pid-less records first
// matched no sandbox process since the last call (to log each once).
func (e *Engine) DrainUncorrelatedRules() []string {
	r := e.audit.uncorrelatedRules
	e.audit.uncorrelatedRules = nil
	return r
}

// runtimeSighting: in how many invocations a target was seen, and the
// last one's trace (the same invocation opening it twice counts once).
type runtimeSighting struct {
	invocations uint32
	last        [16]byte
}

// learnRuntime counts a non-sensitive unreported access during invocation
// trace of a learning extension, per host executable.
func (ac *auditCheck) learnRuntime(key, target string, trace [16]byte) {
	m := ac.runtime[key]
	if m == nil {
		if len(ac.runtime) >= maxBackgroundExes {
			return
		}
		m = map[string]runtimeSighting{}
		ac.runtime[key] = m
	}
	if c, ok := m[target]; ok {
		if c.last != trace && c.invocations < 1<<31 {
			m[target] = runtimeSighting{c.invocations + 1, trace}
		}
		return
	}
	if len(m) < maxBackground {
		m[target] = runtimeSighting{1, trace}
	}
}
