package sandboxevent

// ProfileAgents is the extractor profile for agent telemetry: GenAI
// execute_tool/invoke_agent spans, MCP client and server spans (the MCP
// conventions, mark3labs/mcp-go's otel module, @traceloop/instrumentation-mcp),
// and the tool log events of Claude Code, Codex and Gemini CLI. Unlike the
// key-table profiles of mapping.go it has code behind it (tool-name
// prefixes, JSON arguments, span-name forms, per-session identity), and it
// runs only on records that carry one of agentMarkerKeys or an agent span
// or event name: every other record pays one map lookup per attribute, as
// before.
const ProfileAgents = "agents"

// extractorProfiles are the built-in profiles that are code, not keys.
var extractorProfiles = map[string]bool{ProfileAgents: true}

// fAgent is a pseudo-field of the key table: a key that only agent
// telemetry carries. Its value is not used; its presence sends the record
// through the agent extractor.
const fAgent = numFields

// numFoundFields sizes the per-record scan state: the mapped fields and fAgent.
const numFoundFields = numFields + 1

// agentMarkerKeys are the attribute keys that mark a span or log record as
// agent telemetry (the extractor reads the rest itself).
var agentMarkerKeys = []string{
	"gen_ai.operation.name", "gen_ai.tool.name", "gen_ai.tool.call.id", "gen_ai.tool.call_id",
	"mcp.method.name", "mcp.method", "mcp.tool.name",
	"traceloop.span.kind", "traceloop.entity.name", "traceloop.entity.input", "traceloop.entity.output",
	"tool_name", "function_name", "event.name",
}
