package aggregate

import "github.com/sandwatch/sandwatch/internal/sandboxevent"

// recordAgent aggregates one agent record (sp is nil for a log record).
// The MCP server or the agent's tool set is the extension; a tool call,
// resource read or prompt get is an operation labelled with its tool (the
// connector has already dropped repeats of one call, see
// sandboxevent.CallDeduper); a tool decision (allow or deny by the user,
// a hook or the config) is a capability decision named by its tool; the
// agent's own span (invoke_agent, a Traceloop session) is an invocation;
// listings and notifications count nothing.
func (a *Aggregator) recordAgent(ev *sandboxevent.Event, ext string, h0 uint64, ex *Exemplar, sp *Span, now int64) {
	outcome := ev.Outcome.String()
	if sp != nil && sp.Root && ev.BlockType == sandboxevent.BlockTypeAgent {
		a.count(Invocations, int(ev.Outcome), Labels{ext, outcome}, h0, ex, now)
		a.observe(InvocationDuration, int(ev.Outcome), Labels{ext, outcome}, sp.Duration, h0, ex, now)
		return
	}
	tool := ev.Agent.Tool
	if tool == "" {
		tool = ev.Agent.Method
	}
	if ev.BlockType == sandboxevent.BlockTypeDecision {
		decision := "allowed"
		if ev.Outcome == sandboxevent.OutcomeDenied {
			decision = "denied"
		}
		a.count(CapabilityDecisions, -1, Labels{ext, tool, decision}, h0, ex, now)
		return
	}
	if !sandboxevent.IsCall(ev) {
		return
	}
	kind := ev.Kind.String()
	a.count(Operations, -1, Labels{ext, kind, outcome, tool}, h0, ex, now)
	if ev.Outcome == sandboxevent.OutcomeError {
		a.count(Errors, -1, Labels{ext, kind, ev.ErrorClass()}, h0, ex, now)
	}
	if ev.IsEgress() {
		a.count(Egress, int(ev.Kind), Labels{ext, kind}, h0, ex, now)
	}
	if a.cfg.TopK > 0 && ev.Target != "" && int(ev.TargetType) < len(a.targetTypes) && a.targetTypes[ev.TargetType] {
		a.count(TargetOperations, -1, Labels{ext, ev.TargetType.String(), ev.Target}, h0, ex, now)
	}
	if sp != nil {
		a.observe(OperationDuration, int(ev.Kind), Labels{ext, kind}, sp.Duration, h0, ex, now)
	}
}
