package sandboxevent

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// The log side of the agents profile: the coding agents that put their
// tool facts on the logs signal. The event is named by the record's event
// name, its event.name attribute or its body, with the agent's prefix
// (claude_code.tool_result) or, where only the short name is recorded,
// by the resource's service.name (claude-code, codex_exec, gemini-cli).

var logEmitters = [...]struct {
	prefix, service, agent string
	emitter                Emitter
}{
	{"claude_code.", "claude", "claude-code", EmitterClaudeCode},
	{"codex.", "codex", "codex", EmitterCodex},
	{"gemini_cli.", "gemini", "gemini-cli", EmitterGeminiCLI},
}

func isAgentEventName(name string) bool {
	for _, e := range logEmitters {
		if strings.HasPrefix(name, e.prefix) {
			return true
		}
	}
	return false
}

// logAttrs holds the keys of one coding-agent log event.
type logAttrs struct {
	eventName, tool, callID, success, errText, errType, decision, decisionType string
	server, session, prompt, outcome, output                                   string
	params, input                                                              pcommon.Value
	hasParams, hasInput                                                        bool
}

func (a *logAttrs) read(m pcommon.Map) {
	for k, v := range m.All() {
		switch k {
		case "event.name":
			a.eventName = v.Str()
		case "tool_name", "function_name":
			a.tool = v.Str()
		case "tool_use_id", "call_id", "gen_ai.tool.call.id":
			a.callID = valueString(v)
		case "success":
			a.success = valueString(v)
		case "error":
			a.errText = valueString(v)
		case "output":
			a.output = valueString(v)
		case "error_type":
			a.errType = valueString(v)
		case "decision":
			a.decision = valueString(v)
		case "decision_type":
			a.decisionType = valueString(v)
		case "outcome":
			a.outcome = valueString(v)
		case "mcp_server", "mcp_server_name":
			a.server = v.Str()
		case "session.id", "conversation.id":
			a.session = valueString(v)
		case "prompt.id", "prompt_id":
			a.prompt = valueString(v)
		case "tool_parameters":
			a.params, a.hasParams = v, true
		case "tool_input", "arguments", "function_args":
			a.input, a.hasInput = v, true
		}
	}
}

// extractLog classifies a coding agent's log event into ev; a record that
// turns out to be none keeps the key table's classification.
func (c *Classifier) extractLog(rec plog.LogRecord, rc *ResourceContext, ev *Event) {
	var a logAttrs
	if body := rec.Body(); body.Type() == pcommon.ValueTypeMap {
		a.read(body.Map())
	}
	a.read(rec.Attributes())
	service := ""
	if rc != nil {
		service = rc.service
	}
	name := rec.EventName()
	if name == "" {
		name = a.eventName
	}
	if name == "" && rec.Body().Type() == pcommon.ValueTypeStr {
		name = rec.Body().Str()
	}
	var ag AgentInfo
	event := ""
	for _, e := range logEmitters {
		if strings.HasPrefix(name, e.prefix) {
			ag.Emitter, ag.Agent, event = e.emitter, e.agent, name[len(e.prefix):]
			break
		}
	}
	if ag.Emitter == EmitterNone {
		for _, e := range logEmitters {
			if hasPrefixFold(service, e.service) {
				ag.Emitter, ag.Agent, event = e.emitter, e.agent, name
				break
			}
		}
	}
	if ag.Emitter == EmitterNone {
		return
	}
	if service != "" {
		ag.Agent = service
	}
	ag.Side = SideAgent
	ag.Session, ag.Prompt, ag.CallKey = a.session, a.prompt, a.callID

	var blockType string
	switch event {
	case "tool_result", "tool_call":
		blockType = BlockTypeTool
	case "tool_decision", "sandbox_outcome":
		blockType = BlockTypeDecision
	default:
		// api_request, user_prompt...: agent activity, not a tool call.
		*ev = Event{BlockType: BlockTypeAgent, Operation: event, Agent: ag}
		return
	}
	var args argFacts
	if a.hasParams {
		args.readValue(a.params)
	}
	if a.hasInput {
		args.readValue(a.input)
	}
	ag.ContentCaptured = args.captured
	server, tool := splitToolName(a.tool)
	if args.tool != "" && server == "" {
		tool = args.tool
	}
	ag.Tool = tool
	if server == "" {
		server = a.server
	}
	if server == "" {
		server = args.server
	}
	set := server
	if server == "" {
		server, set = ag.Agent, ag.Agent // the agent's built-in tool set
		if set == service {
			set = logEmitterAgent(ag.Emitter)
		}
	}
	*ev = Event{ExtensionID: server, BlockType: BlockTypeTool, Agent: ag}
	finishAgent(ev, set, &args)
	ev.BlockType = blockType

	decision := a.decision
	if decision == "" {
		decision = a.decisionType
	}
	if decision == "" {
		decision = a.outcome
	}
	ev.Decision = decision
	failed := a.success == "false" || a.success == "False"
	if failed && a.errText == "" {
		a.errText = refusalHead(a.output)
	}
	switch {
	case decision != "" && (c.isDenied(decision) || equalFold(decision, "abort")):
		ev.Outcome = OutcomeDenied
		ev.Capability = CapabilityToolDecision
	case failed && (isPolicyDenial(a.errText) || isPolicyDenial(a.errType)):
		ev.Outcome = OutcomeDenied
		if containsFold(a.errText, "outside allowed") {
			ev.Capability = CapabilityMCPRoots
		}
	case failed:
		ev.Outcome = OutcomeError
		ev.ErrorCode = a.errType
		if ev.ErrorCode == "" {
			ev.ErrorCode = errnoIn(a.errText)
		}
		if ev.ErrorCode == "" {
			ev.ErrorCode = "tool_error"
		}
	}
}

// maxRefusalBytes is how much of a failed call's output the event model
// reads for its refusal: the servers' and the agent's refusals are one
// short line ("Access denied - path outside allowed directories: ..."),
// while a failed command's output can be a whole build log.
const maxRefusalBytes = 1 << 10

// refusalHead returns the head of a failed tool call's output. Codex has
// no error attribute on codex.tool_result: a failed call's message (the
// tool's error, or the MCP server's refusal) is its output, next to
// success=false (openai/codex codex-rs/otel/src/events/session_telemetry.rs,
// log_tool_failed and tool_result_with_tags).
func refusalHead(output string) string {
	if len(output) > maxRefusalBytes {
		return output[:maxRefusalBytes]
	}
	return output
}

func logEmitterAgent(e Emitter) string {
	for _, le := range logEmitters {
		if le.emitter == e {
			return le.agent
		}
	}
	return ""
}
