package detect

import (
	"encoding/hex"
	"fmt"
	"time"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/agentstate"
	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/profile"
	"github.com/sandwatch/sandwatch/internal/sandboxevent"
)

// chain is one judgement of a read and a later egress in one session.
type chain struct {
	a            *agentstate.Agent
	agentLearned bool
	ctx          agentCtx
	now          int64
}

// crossTool keeps the session's reads and egress calls and judges every
// read -> egress pair across tools, whichever arrives first (the spans of
// one session come in any order; the span start times order them).
func (e *Engine) crossTool(p *profile.Profile, a *agentstate.Agent, sess *agentstate.Session, ev *sandboxevent.Event, known, learned, agentLearned bool, ctx agentCtx, sp Span, now int64) {
	class := toolClass(p, ev)
	start := sp.Start
	if start <= 0 {
		start = now
	}
	call := agentstate.Call{Server: p.ID, Tool: ev.Agent.Tool, Class: class, Content: ev.Agent.ContentCaptured,
		TraceID: sp.TraceID, SpanID: sp.SpanID, Start: start}
	if call.Tool == "" {
		call.Tool = ev.Agent.Method // a resource read has no tool
	}
	ch := chain{a: a, agentLearned: agentLearned, ctx: ctx, now: now}
	limit := e.agents.s.SessionCalls
	switch {
	case isReadCall(class, ev):
		if ev.TargetType == sandboxevent.TargetPath && ev.Target != "" {
			call.Target, call.Content = e.norm(ev), true
			// Private: a sensitive path, or one the learned server never read.
			call.Private = e.sens.path(call.Target) || (!known && learned)
		}
		if class == sandboxevent.ToolClassSecrets {
			call.Private = true // the environment, credentials
		}
		sess.AddRead(call, limit)
		r := sess.LatestRead(0)
		for i, egs := 0, sess.EgressCalls(); i < len(egs); i++ {
			if e.judgeChain(r, &egs[i], ch) {
				break
			}
		}
	case isEgressCall(class, ev):
		host := egressHost(ev)
		if host != "" {
			call.Content = true
			call.Target = host
			if e.s.TemplateHosts {
				call.Target = e.hosts.get(host)
			}
			h := profile.Hash(call.Target)
			if !agentLearned {
				a.Hosts.Add(h, call.Target, e.agents.s.Limits.Hosts)
			}
			hostKnown := a.Hosts.Contains(h) || p.Sets[profile.ClassHost].Contains(h) || p.Declared.Match(profile.ClassHost, host) ||
				e.knownHost(p, call.Target, host) || (ev.TargetType == sandboxevent.TargetHost && known)
			if hostKnown || !(learned || p.Declared.Has(profile.ClassHost)) {
				e.learnPairs(sess, &call, ch)
				return
			}
		}
		reported := false
		for i := 0; i < len(sess.ReadCalls()) && !reported; i++ {
			reported = e.judgeChain(sess.LatestRead(i), &call, ch) // latest read first
		}
		if !reported {
			sess.AddEgress(call, limit)
		}
	}
}

// isReadCall: a read- or secrets-class tool, or a resource read of a path.
func isReadCall(class sandboxevent.ToolClass, ev *sandboxevent.Event) bool {
	return class == sandboxevent.ToolClassRead || class == sandboxevent.ToolClassSecrets ||
		(ev.Agent.Tool == "" && ev.TargetType == sandboxevent.TargetPath && ev.BlockType == sandboxevent.BlockTypeResource)
}

// isEgressCall: an egress-class tool, an http(s) resource, or an exec
// tool whose captured command names a URL.
func isEgressCall(class sandboxevent.ToolClass, ev *sandboxevent.Event) bool {
	switch {
	case class == sandboxevent.ToolClassEgress:
		return true
	case ev.Agent.Tool == "" && ev.TargetType == sandboxevent.TargetHost:
		return true
	case class == sandboxevent.ToolClassExec:
		return ev.TargetType == sandboxevent.TargetCommand && agentstate.HostFromCommand(ev.Target) != ""
	}
	return false
}

// egressHost is where an egress call went, "" when not captured.
func egressHost(ev *sandboxevent.Event) string {
	switch ev.TargetType {
	case sandboxevent.TargetHost:
		return ev.Target
	case sandboxevent.TargetCommand:
		return agentstate.HostFromCommand(ev.Target)
	}
	if ev.URL != "" {
		return sandboxevent.HostFromURL(ev.URL)
	}
	return ""
}

// learnPairs: while the agent learns, every read -> egress order of its
// sessions is part of its profile.
func (e *Engine) learnPairs(sess *agentstate.Session, eg *agentstate.Call, ch chain) {
	if ch.agentLearned {
		return
	}
	for i, reads := 0, sess.ReadCalls(); i < len(reads); i++ {
		e.judgeChain(&reads[i], eg, ch)
	}
}

func pairName(r, eg *agentstate.Call) string {
	return r.Server + "/" + r.Tool + ">" + eg.Server + "/" + eg.Tool
}

// judgeChain judges read r followed by egress eg; it reports whether an
// anomaly named them. While the agent learns, the pair's order is learned.
func (e *Engine) judgeChain(r, eg *agentstate.Call, ch chain) bool {
	if r.Server == eg.Server && r.Tool == eg.Tool || r.Start > eg.Start || r.Reported || eg.Reported {
		return false
	}
	horizon := e.s.Detectors.Exfiltration.Horizon
	if eg.Start-r.Start > int64(horizon) {
		return false
	}
	pair := pairName(r, eg)
	h := profile.Hash(pair)
	if !ch.agentLearned {
		ch.a.Pairs.Add(h, pair, e.agents.s.Limits.Pairs)
		return false
	}
	d := e.s.Detectors
	var a Anomaly
	switch {
	case eg.Target != "" && r.Private && d.CrossToolExfiltration.Enabled:
		a = Anomaly{Type: TypeCrossToolExfiltration, Severity: d.CrossToolExfiltration.Severity,
			Observed: fmt.Sprintf("read %s with %s/%s in trace %s, then %s/%s to %s in trace %s %s later (session %s, agent %s)",
				r.Target, r.Server, r.Tool, hex.EncodeToString(r.TraceID[:]), eg.Server, eg.Tool, eg.Target,
				hex.EncodeToString(eg.TraceID[:]), time.Duration(eg.Start-r.Start).Round(time.Millisecond), ch.ctx.session, ch.a.Name),
			Expected: fmt.Sprintf("egress only to hosts of the agent's (%d learned) and the tool's profiles within %s of a private read", ch.a.Hosts.Len(), horizon)}
	case (!r.Content || !eg.Content) && !ch.a.Pairs.Contains(h) && d.CrossToolSequence.Enabled:
		a = Anomaly{Type: TypeCrossToolSequence, Severity: d.CrossToolSequence.Severity,
			Observed: fmt.Sprintf("%s tool %s/%s in trace %s, then egress tool %s/%s in trace %s %s later (session %s, agent %s; content not captured)",
				r.Class, r.Server, r.Tool, hex.EncodeToString(r.TraceID[:]), eg.Server, eg.Tool, hex.EncodeToString(eg.TraceID[:]),
				time.Duration(eg.Start-r.Start).Round(time.Millisecond), ch.ctx.session, ch.a.Name),
			Expected: fmt.Sprintf("one of %d tool orders the agent used while learning", ch.a.Pairs.Len())}
	default:
		return false
	}
	r.Reported, eg.Reported = true, true
	a.ExtensionID, a.Target, a.Score = eg.Server, Clip(orTool(eg)), 1
	a.TraceID, a.SpanID, a.Time = eg.TraceID, eg.SpanID, ch.now
	a.Agent, a.Session = ch.a.Name, ch.ctx.session
	a.Related = TraceRef{TraceID: r.TraceID, SpanID: r.SpanID}
	e.emit(a)
	return true
}

// orTool is what a chain anomaly is about: the host, else the tool.
func orTool(eg *agentstate.Call) string {
	if eg.Target != "" {
		return eg.Target
	}
	return eg.Tool
}
