package detect

import (
	"encoding/hex"
	"fmt"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/agentstate"
	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/mcpservers"
	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/profile"
	"github.com/sandwatch/sandwatch/internal/sandboxevent"
)

// agentEngine is the engine's state about agents that chain tools: the
// agent profiles, the sessions, and the shipped declared profiles of
// reference MCP servers, compiled once.
type agentEngine struct {
	s        *AgentSettings
	agents   *agentstate.Agents
	sessions *agentstate.Sessions
	builtin  map[string]*profile.Declared // by shipped server name
}

func (a *agentEngine) init(s *AgentSettings) error {
	s.defaults()
	a.s = s
	var err error
	if a.agents, err = agentstate.NewAgents(s.MaxAgents); err != nil {
		return fmt.Errorf("agents.max_agents: %w", err)
	}
	if a.sessions, err = agentstate.NewSessions(s.MaxSessions); err != nil {
		return fmt.Errorf("agents.max_sessions: %w", err)
	}
	if s.BuiltinServers {
		a.builtin = map[string]*profile.Declared{}
		for _, srv := range mcpservers.Builtin() {
			d, err := srv.Spec.Compile()
			if err != nil { // a test keeps the shipped specs compiling
				return fmt.Errorf("shipped profile of MCP server %s: %w", srv.Name, err)
			}
			a.builtin[srv.Name] = d
		}
	}
	return nil
}

// attachBuiltin gives an MCP server without a declared profile the
// shipped one of its name, once.
func (e *Engine) attachBuiltin(p *profile.Profile) {
	if p.Declared != nil || p.BuiltinChecked || e.agents.builtin == nil {
		return
	}
	p.BuiltinChecked = true
	if srv := mcpservers.Find(p.ID); srv != nil {
		p.Declared = e.agents.builtin[srv.Name]
	}
}

// agentTargetQuiet: the event being observed is an agent tool call, whose
// paths and hosts the model chose (a fetch tool reaches any URL, a
// filesystem tool reads any file of the workspace), so a target new to
// the server is not reported by itself unless the operator asks
// (agents.report_target_novelty); it still counts as never seen for the
// cross-tool chains, and declared roots and hosts are still enforced.
func (e *Engine) agentTargetQuiet() bool {
	return e.cur.agent != nil && !e.s.Agents.ReportTargetNovelty
}

// agentCtx is who acted in an agent event: the agent and its session.
type agentCtx struct {
	agent   *agentstate.Agent
	sess    *agentstate.Session
	session string
	dup     bool
}

func (c agentCtx) agentName() string {
	if c.agent == nil {
		return ""
	}
	return c.agent.Name
}

// sessionKey groups the calls of one agent session: the session id, the
// prompt id, else the trace.
func sessionKey(ev *sandboxevent.Event, sp Span) string {
	if ev.Agent.Session != "" {
		return ev.Agent.Session
	}
	if ev.Agent.Prompt != "" {
		return "prompt:" + ev.Agent.Prompt
	}
	if sp.TraceID != ([16]byte{}) {
		return "trace:" + hex.EncodeToString(sp.TraceID[:])
	}
	return ""
}

func (e *Engine) agentLearned(a *agentstate.Agent, now int64) bool {
	if !a.Learned && (a.Sessions >= e.s.Agents.LearnSessions || now-a.FirstSeen >= int64(e.s.LearnWindow)) {
		a.Learned = true
	}
	return a.Learned
}

// toolClass is the tool's class as the server's declared profile says,
// else as the event model classified it.
func toolClass(p *profile.Profile, ev *sandboxevent.Event) sandboxevent.ToolClass {
	if c, ok := p.Declared.Tool(ev.Agent.Tool); ok {
		return c
	}
	return ev.Agent.Class
}

// agentContext finds the acting agent and its session for an agent
// event; dup reports a call already counted (one call reported by the
// agent, the MCP client and the MCP server counts once; its records still
// feed the chains, whose anomalies name each call once).
func (e *Engine) agentContext(ev *sandboxevent.Event, sp Span, now int64) agentCtx {
	ag := &e.agents
	key := sessionKey(ev, sp)
	name := ev.Agent.Agent
	if name == "" && key != "" {
		// An MCP server's span names no agent; the client's span of the
		// same session (mcp.session.id) does.
		if s, ok := ag.sessions.Peek(key); ok && s.Agent != "" {
			name = s.Agent
		}
	}
	if name == "" {
		name = ev.Agent.Emitter.String()
	}
	a := ag.agents.Get(name, now)
	ctx := agentCtx{agent: a}
	if key == "" {
		return ctx
	}
	sess, created := ag.sessions.Get(key, a.Name)
	self := ev.Agent.Side == sandboxevent.SideAgent
	a.AgentSide = a.AgentSide || self
	if created && (self || !a.AgentSide) {
		a.Sessions++
	}
	ctx.sess, ctx.session = sess, Clip(key)
	// A call reported again (by the MCP client or server after the agent)
	// is counted once: a repeat key within the session, or the connector's
	// CallDeduper (sp.Repeat).
	ctx.dup = sess.SeenCall(ev.Agent.CallKey) || sp.Repeat
	return ctx
}

// observeAgent runs the detectors of agents that chain tools on one
// agent event of server p. known says whether the event's target was in
// the server's profile; learned whether the server is.
func (e *Engine) observeAgent(p *profile.Profile, ev *sandboxevent.Event, ctx agentCtx, known, learned bool, sp Span, now int64) {
	a := ctx.agent
	agentLearned := e.agentLearned(a, now)
	tool := ev.Agent.Tool
	if tool != "" && ev.Agent.ListedTools == "" {
		e.toolDrift(p, tool, ev.Agent.DescriptionHash, "called", learned, ctx, sp, now)
		e.shadowing(p, a, tool, agentLearned, ctx, sp, now)
		if !agentLearned {
			a.Tools.Add(profile.Hash(p.ID+"\x00"+tool), p.ID+"\x00"+tool, e.agents.s.Limits.Tools)
		}
	}
	if ev.Agent.ListedTools != "" {
		e.listedTools(p, a, ev, learned, agentLearned, ctx, sp, now)
	}
	if ev.Agent.ListChanged {
		e.listChanged(p, learned, ctx, sp, now)
	}
	if ev.Outcome == sandboxevent.OutcomeDenied && !ctx.dup {
		e.agentDenied(a, ctx, sp, now)
	}
	// A failed egress still tried to send (a refused upload is an attempt);
	// a denied one did not, and a failed read returned nothing.
	if ctx.sess != nil && ev.Outcome != sandboxevent.OutcomeDenied {
		e.crossTool(p, a, ctx.sess, ev, known, learned, agentLearned, ctx, sp, now)
	}
}

// agentDenied counts a denial against the agent across all its servers:
// WindowProbes within the recon window is recon on the agent.
func (e *Engine) agentDenied(a *agentstate.Agent, ctx agentCtx, sp Span, now int64) {
	d := e.s.Detectors.Recon
	if now-a.WindowStart > int64(d.Window) {
		a.WindowStart, a.WindowCount = now, 0
	}
	a.WindowCount++
	if !d.Enabled || a.WindowCount != d.WindowProbes {
		return
	}
	e.emit(Anomaly{Type: TypeRecon, Severity: d.Severity, ExtensionID: "agent:" + a.Name, Target: "agent window",
		Observed: fmt.Sprintf("%d denied tool calls by agent %s within %s, across its servers", a.WindowCount, a.Name, d.Window),
		Expected: fmt.Sprintf("fewer than %d per %s", d.WindowProbes, d.Window), Score: 1,
		Learning: !a.Learned, TraceID: sp.TraceID, SpanID: sp.SpanID, Time: now, Agent: a.Name, Session: ctx.session})
}

// AgentStats are the bounded agent state's counters, for metrics.
type AgentStats struct {
	Agents, Sessions               int
	AgentsEvicted, SessionsEvicted uint64
	ToolsOverflowed                uint64
}

// AgentStats walks the agent state and the tool registries (call at
// metric intervals, not per span).
func (e *Engine) AgentStats() AgentStats {
	s := AgentStats{Agents: e.agents.agents.Len(), Sessions: e.agents.sessions.Len(),
		AgentsEvicted: e.agents.agents.Evicted, SessionsEvicted: e.agents.sessions.Evicted}
	for _, p := range e.profiles.Values() {
		s.ToolsOverflowed += p.Tools.Overflow()
	}
	return s
}

// AgentSnapshots returns every agent profile's serialisable form.
func (e *Engine) AgentSnapshots() []agentstate.AgentSnapshot { return e.agents.agents.Snapshot() }

// RestoreAgents loads persisted agent profiles.
func (e *Engine) RestoreAgents(snaps []agentstate.AgentSnapshot) {
	e.agents.agents.Restore(snaps, e.agents.s.Limits)
}
