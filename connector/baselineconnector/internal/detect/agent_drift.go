package detect

import (
	"fmt"
	"strings"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/agentstate"
	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/profile"
	"github.com/sandwatch/sandwatch/internal/sandboxevent"
)

// listKey is the registry entry of a whole tools/list result, when an
// emitter records one hash for the list instead of one per tool.
const listKey = "\x00tools/list"

// toolsLearned: the server's tool registry judges (the server is learned
// and its registry is not relearning after an old save).
func toolsLearned(p *profile.Profile, learned bool) bool { return learned && p.Tools.Relearn == 0 }

// toolDrift judges one tool of server p, called or listed. A tool outside
// the server's declared list is new_tool from its first call or listing.
// After learning, a tool the server never served (called or listed) is
// new_tool, and so is the first call of a tool it only listed while it
// learned (Traceloop lists every tool each session): the declared list
// says what the server may do, the learned registry what this
// installation does. A description hash that differs from the learned
// one is tool_description_changed.
func (e *Engine) toolDrift(p *profile.Profile, tool string, desc uint64, how string, learned bool, ctx agentCtx, sp Span, now int64) {
	judging := toolsLearned(p, learned)
	limit := e.s.Limits.ToolLimit()
	called := how == "called"
	i := p.Tools.Lookup(tool)
	if tool != listKey {
		_, declared := p.Declared.Tool(tool)
		switch {
		case i < 0 && p.Declared.HasTools() && !declared:
			e.newTool(p, tool, how, "one of the server's declared tools", !learned, ctx, sp, now)
			return
		case i < 0 && judging && !p.Tools.Full(limit):
			e.newTool(p, tool, how, fmt.Sprintf("one of %d tools the server served while learning", p.Tools.Len()), false, ctx, sp, now)
			return
		case i >= 0 && judging && called && !p.Tools.Called(i):
			e.newTool(p, tool, how, "a tool the server's learned calls include (it was only listed)", false, ctx, sp, now)
			return
		}
	}
	if i < 0 {
		if i = p.Tools.Add(tool, desc, limit); i < 0 {
			return // full: quieter, never noisier
		}
	}
	if called && !judging {
		p.Tools.SetCalled(i)
	}
	if desc == 0 {
		return
	}
	old := p.Tools.Desc(i)
	if old == 0 || !judging {
		p.Tools.SetDesc(i, desc) // learning, or the first description recorded
		return
	}
	if old == desc {
		return
	}
	// The learned description stays the reference: a description that
	// changes back and forth is reported each time it differs.
	if t := e.s.Detectors.ToolDescriptionChanged; t.Enabled {
		name := tool
		if tool == listKey {
			name = "tools/list"
		}
		e.emit(Anomaly{Type: TypeToolDescriptionChanged, Severity: t.Severity, ExtensionID: p.ID, Target: Clip(name),
			Observed: fmt.Sprintf("description of %s changed (hash %016x, was %016x)", Clip(name), desc, old),
			Expected: "the description the server served while it learned", Score: 1,
			TraceID: sp.TraceID, SpanID: sp.SpanID, Time: now, Agent: ctx.agentName(), Session: ctx.session})
	}
}

func (e *Engine) newTool(p *profile.Profile, tool, how, expected string, learning bool, ctx agentCtx, sp Span, now int64) {
	t := e.s.Detectors.NewTool
	if !t.Enabled {
		return
	}
	e.emit(Anomaly{Type: TypeNewTool, Severity: t.Severity, ExtensionID: p.ID, Target: Clip(tool),
		Observed: how + " tool " + Clip(tool), Expected: expected, Score: 1, Learning: learning,
		TraceID: sp.TraceID, SpanID: sp.SpanID, Time: now, Agent: ctx.agentName(), Session: ctx.session})
}

// listedTools judges every tool of a tools/list result: each new one is
// drift, each is offered to the agent (shadowing), and a hash of the
// whole list, when that is what the emitter recorded, is compared.
func (e *Engine) listedTools(p *profile.Profile, a *agentstate.Agent, ev *sandboxevent.Event, learned, agentLearned bool, ctx agentCtx, sp Span, now int64) {
	list, hashes := ev.Agent.ListedTools, ev.Agent.ListedToolHashes
	for n := 0; list != "" && n < e.s.Limits.ToolLimit(); n++ {
		var tool string
		tool, list, _ = strings.Cut(list, ",")
		tool = strings.TrimSpace(tool)
		var desc uint64 // one hash per listed tool, when the emitter gives them
		if n < len(hashes) {
			desc = hashes[n]
		}
		if tool == "" {
			continue
		}
		e.toolDrift(p, tool, desc, "listed", learned, ctx, sp, now)
		e.shadowing(p, a, tool, agentLearned, ctx, sp, now)
	}
	if ev.Agent.DescriptionHash != 0 && len(hashes) == 0 {
		e.toolDrift(p, listKey, ev.Agent.DescriptionHash, "listed", learned, ctx, sp, now)
	}
}

// listChanged: a server that announces a new tool list after learning
// (or with a declared list) is drift, whatever the new list holds.
func (e *Engine) listChanged(p *profile.Profile, learned bool, ctx agentCtx, sp Span, now int64) {
	t := e.s.Detectors.ToolListChanged
	if !t.Enabled || !(toolsLearned(p, learned) || p.Declared.HasTools()) {
		return
	}
	e.emit(Anomaly{Type: TypeToolListChanged, Severity: t.Severity, ExtensionID: p.ID, Target: "notifications/tools/list_changed",
		Observed: "the server announced that its tool list changed", Expected: fmt.Sprintf("the %d tools it served while learning", p.Tools.Len()),
		Score: 1, TraceID: sp.TraceID, SpanID: sp.SpanID, Time: now, Agent: ctx.agentName(), Session: ctx.session})
}

// shadowing: one tool name served to an agent by two of its servers. The
// servers an agent used while it learned are its installation; a second
// server of a name after that is reported on each of its calls and
// listings (dedup folds the repeats, and lists their traces).
func (e *Engine) shadowing(p *profile.Profile, a *agentstate.Agent, tool string, agentLearned bool, ctx agentCtx, sp Span, now int64) {
	if tool == listKey {
		return
	}
	prior := a.Served(tool, p.ID, e.agents.s.Limits.Tools, !agentLearned)
	t := e.s.Detectors.ToolShadowing
	if len(prior) == 0 || !agentLearned || !t.Enabled {
		return
	}
	e.emit(Anomaly{Type: TypeToolShadowing, Severity: t.Severity, ExtensionID: p.ID, Target: Clip(tool),
		Observed: fmt.Sprintf("tool %s served by %s and by %s to agent %s", Clip(tool), p.ID, strings.Join(prior, ", "), a.Name),
		Expected: "each tool name served by one of the agent's servers", Score: 1,
		TraceID: sp.TraceID, SpanID: sp.SpanID, Time: now, Agent: a.Name, Session: ctx.session})
}
