package detect

import (
	"encoding/hex"
	"fmt"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/agentstate"
	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/profile"
	"github.com/sandwatch/sandwatch/internal/sandboxevent"
)

// chain is one judgement of a read and a later egress: in one session
// (or trace), or across the agent's sessions (agentScope).
type chain struct {
	a            *agentstate.Agent
	agentLearned bool
	agentScope   bool
	sess         *agentstate.Session
	now          int64
}

// crossTool keeps the session's reads and egress calls and judges every
// read -> egress pair across tools, whichever arrives first (the spans of
// one session come in any order; the span start times order them).
// Private reads and unknown-host egress of MCP client and server records
// are also kept per agent: their sessions are per server connection
// (Traceloop's mcp.client.session, mcp.session.id), so no session spans
// two servers, and the chain is judged across the agent's sessions
// (content-based only: the class-only form needs one session).
func (e *Engine) crossTool(p *profile.Profile, a *agentstate.Agent, sess *agentstate.Session, ev *sandboxevent.Event, known, learned, agentLearned bool, ctx agentCtx, sp Span, now int64) {
	class := toolClass(p, ev)
	start := sp.Start
	if start <= 0 {
		start = now
	}
	call := agentstate.Call{Server: p.ID, Tool: ev.Agent.Tool, Session: ctx.session, Class: class, Content: ev.Agent.ContentCaptured,
		TraceID: sp.TraceID, SpanID: sp.SpanID, Start: start}
	if call.Tool == "" {
		call.Tool = ev.Agent.Method // a resource read has no tool
	}
	inSession := chain{a: a, agentLearned: agentLearned, sess: sess, now: now}
	acrossAgent := inSession
	acrossAgent.agentScope = true
	limit := e.agents.s.SessionCalls
	switch {
	case isReadCall(class, ev) && ev.Outcome == sandboxevent.OutcomeOK:
		if ev.TargetType == sandboxevent.TargetPath && ev.Target != "" {
			call.Target, call.Content = e.norm(ev), true
			// Private: a sensitive path, or one the learned server never read.
			call.Private = e.sens.path(call.Target) || (!known && learned)
		}
		if class == sandboxevent.ToolClassSecrets {
			call.Private = true // the environment, credentials
		}
		sess.AddRead(call, limit)
		perConn := call.Private && perConnectionSessions(ev)
		if perConn {
			a.Recent.AddRead(call, limit)
		}
		// A read that arrives after its egress (spans come in any order).
		if !e.pairLateRead(sess, inSession) && perConn {
			e.pairLateRead(&a.Recent, acrossAgent)
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
				e.learnPairs(sess, &call, inSession)
				return
			}
		}
		perConn := call.Target != "" && perConnectionSessions(ev)
		if e.pairEgress(sess, &call, inSession) || perConn && e.pairEgress(&a.Recent, &call, acrossAgent) {
			return
		}
		sess.AddEgress(call, limit)
		if perConn {
			a.Recent.AddEgress(call, limit)
		}
	}
}

// pairEgress judges egress eg against the reads of scope, latest first.
func (e *Engine) pairEgress(scope *agentstate.Session, eg *agentstate.Call, ch chain) bool {
	for i := 0; i < len(scope.ReadCalls()); i++ {
		if e.judgeChain(scope.LatestRead(i), eg, ch) {
			return true
		}
	}
	return false
}

// pairLateRead judges scope's latest read against the egress calls scope
// saw before it arrived.
func (e *Engine) pairLateRead(scope *agentstate.Session, ch chain) bool {
	r := scope.LatestRead(0)
	for i := 0; i < len(scope.EgressCalls()); i++ {
		if e.judgeChain(r, scope.LatestEgress(i), ch) {
			return true
		}
	}
	return false
}

// perConnectionSessions: the emitter's session is one MCP client
// connection (Traceloop's mcp.client.session span, mcp.session.id), so
// it never spans two servers and the agent is the only scope that does.
// The agent's own records (GenAI spans, coding-agent events) carry a
// conversation that spans its servers: those judge in their session.
func perConnectionSessions(ev *sandboxevent.Event) bool {
	return ev.Agent.Side == sandboxevent.SideMCPClient || ev.Agent.Side == sandboxevent.SideMCPServer
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
		return ev.URL != "" // the event model's URL of a command (curl -X POST https://...)
	}
	return false
}

// egressHost is where an egress call went, "" when not captured.
func egressHost(ev *sandboxevent.Event) string {
	if ev.TargetType == sandboxevent.TargetHost {
		return ev.Target
	}
	if ev.URL != "" {
		return sandboxevent.HostFromURL(ev.URL)
	}
	return ""
}

// learnPairs: while the agent learns, every read -> egress order of its
// sessions is part of its profile.
func (e *Engine) learnPairs(sess *agentstate.Session, eg *agentstate.Call, ch chain) {
	if !ch.agentLearned {
		e.pairEgress(sess, eg, ch)
	}
}

func pairName(r, eg *agentstate.Call) string {
	return r.Server + "/" + r.Tool + ">" + eg.Server + "/" + eg.Tool
}

// pairHash is profile.Hash(pairName(r, eg)) without building the name:
// every read-egress pair of a session is judged, and only a learned pair
// needs its name (xxhash over the parts equals xxhash over their
// concatenation).
func pairHash(r, eg *agentstate.Call) uint64 {
	var d xxhash.Digest
	d.Reset()
	for _, part := range [...]string{r.Server, "/", r.Tool, ">", eg.Server, "/", eg.Tool} {
		_, _ = d.WriteString(part)
	}
	return d.Sum64()
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
	h := pairHash(r, eg)
	if !ch.agentLearned {
		if !ch.agentScope {
			ch.a.Pairs.Add(h, pairName(r, eg), e.agents.s.Limits.Pairs)
		}
		return false
	}
	d := e.s.Detectors
	var a Anomaly
	switch {
	case eg.Target != "" && r.Private && d.CrossToolExfiltration.Enabled:
		a = Anomaly{Type: TypeCrossToolExfiltration, Severity: d.CrossToolExfiltration.Severity,
			Observed: fmt.Sprintf("%s with %s/%s in trace %s (session %s), then %s/%s to %s in trace %s (session %s) %s later (agent %s)",
				readWhat(r), r.Server, r.Tool, hex.EncodeToString(r.TraceID[:]), r.Session, eg.Server, eg.Tool, eg.Target,
				hex.EncodeToString(eg.TraceID[:]), eg.Session, time.Duration(eg.Start-r.Start).Round(time.Millisecond), ch.a.Name),
			Expected: fmt.Sprintf("egress only to hosts of the agent's (%d learned) and the tool's profiles within %s of a private read", ch.a.Hosts.Len(), horizon)}
	case !ch.agentScope && (!r.Content || !eg.Content) && !ch.a.Pairs.Contains(h) && d.CrossToolSequence.Enabled:
		a = Anomaly{Type: TypeCrossToolSequence, Severity: d.CrossToolSequence.Severity,
			Observed: fmt.Sprintf("%s tool %s/%s in trace %s, then egress tool %s/%s in trace %s %s later (session %s, agent %s; content not captured)",
				r.Class, r.Server, r.Tool, hex.EncodeToString(r.TraceID[:]), eg.Server, eg.Tool, hex.EncodeToString(eg.TraceID[:]),
				time.Duration(eg.Start-r.Start).Round(time.Millisecond), eg.Session, ch.a.Name),
			Expected: fmt.Sprintf("one of %d tool orders the agent used while learning", ch.a.Pairs.Len())}
	default:
		return false
	}
	r.Reported, eg.Reported = true, true
	for _, scope := range []*agentstate.Session{ch.sess, &ch.a.Recent} { // a call kept in both scopes is named once
		scope.MarkReported(r.TraceID, r.SpanID)
		scope.MarkReported(eg.TraceID, eg.SpanID)
	}
	a.ExtensionID, a.Target, a.Score = eg.Server, Clip(orTool(eg)), 1
	a.TraceID, a.SpanID, a.Time = eg.TraceID, eg.SpanID, ch.now
	a.Agent, a.Session = ch.a.Name, eg.Session
	a.Related = TraceRef{TraceID: r.TraceID, SpanID: r.SpanID}
	e.emit(a)
	return true
}

// readWhat says what a private read took: the path, or the class of a
// tool without one (get-env returns the environment).
func readWhat(r *agentstate.Call) string {
	if r.Target != "" {
		return "read " + r.Target
	}
	return "took " + r.Class.String()
}

// orTool is what a chain anomaly is about: the host, else the tool.
func orTool(eg *agentstate.Call) string {
	if eg.Target != "" {
		return eg.Target
	}
	return eg.Tool
}
