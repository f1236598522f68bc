package sandboxevent

// The agent fields of the event model: what GenAI agent spans, MCP client
// and server spans and coding-agent log events say beyond the sandbox
// fields. They are zero for every other emitter, so components that do not
// care about agents pay nothing. The extractors that fill them live beside
// this file; the baseline's agent detectors and sandbox_metrics read them.
//
// For agent telemetry the sandbox fields keep their meaning: ExtensionID is
// the MCP server (or the agent's built-in tool set), Operation is the tool,
// BlockType is the normalised MCP method or GenAI operation (see the
// BlockType* constants), and Target is the path, host or command taken
// from mcp.resource.uri or from the tool's captured arguments.
//
// How the agents profile (agentspan.go, agentlog.go) fills them:
//   - ExtensionID, in order: an MCP server span's resource service.name;
//     the tool name's prefix (<server>__<tool> Goose, mcp__<server>__<tool>
//     Claude Code); an emitter's server field (mcp_server, mcp_server_name,
//     Copilot's ...mcp_server_name, else its _hash; Claude's
//     tool_parameters.mcp_server_name); for Traceloop, the serverInfo.name
//     of the session's initialize span (agentsession.go); on an MCP client
//     span, server.address (the MCP server, never an egress destination);
//     otherwise the agent itself (its built-in tools: Bash, shell,
//     read_file...). Empty while AwaitingSession.
//   - Kind/Target: an egress tool or an http(s) URL -> http and the host
//     (URL holds the URL); an exec tool -> exec and the executable (URL
//     holds the first http(s) URL of the command line, if any); a path or
//     file:// URI -> fs and the path; postgres:// and other database URIs
//     -> db and the table. Without content capture only the kind a class
//     implies is known and Target is empty.
//   - Outcome: a policy refusal (server-filesystem's "Access denied - path
//     outside allowed directories", a reject/denied/abort decision, a hook
//     denial) is OutcomeDenied; any other failure (status ERROR, error.type,
//     is_error, success=false) is OutcomeError with ErrorCode error.type or
//     "tool_error"; Decision holds a log event's decision as recorded.
//   - IsRead and IsEgress follow Class for agent events (event.go).
//   - Counting once: IsCall and CallDeduper (agentdedupe.go).

// Emitter names the convention a record was read under.
type Emitter uint8

const (
	EmitterNone       Emitter = iota
	EmitterGenAI              // execute_tool / invoke_agent spans (Goose, Copilot, gh-aw, Gemini traces)
	EmitterMCP                // MCP semantic conventions (mcp.method.name), client or server
	EmitterMCPGo              // mark3labs/mcp-go otel module (mcp.method, mcp.tool.name)
	EmitterTraceloop          // @traceloop/instrumentation-mcp (traceloop.entity.*)
	EmitterClaudeCode         // claude_code.* log events
	EmitterCodex              // codex.* log events
	EmitterGeminiCLI          // gemini_cli.* log events
	numEmitters
)

var emitterNames = [numEmitters]string{"", "genai", "mcp", "mcp_go", "traceloop", "claude_code", "codex", "gemini_cli"}

func (e Emitter) String() string {
	if e < numEmitters {
		return emitterNames[e]
	}
	return ""
}

// Side says which party recorded an agent event. One tool call may be
// recorded by all three; AgentInfo.CallKey lets consumers count it once.
type Side uint8

const (
	SideNone      Side = iota
	SideAgent          // the agent's own execute_tool span or tool log event
	SideMCPClient      // the MCP client span
	SideMCPServer      // the MCP server span
)

func (s Side) String() string {
	switch s {
	case SideAgent:
		return "agent"
	case SideMCPClient:
		return "mcp_client"
	case SideMCPServer:
		return "mcp_server"
	default:
		return ""
	}
}

// ToolClass is what a tool does with data, the unit the cross-tool
// detectors reason in: a read of private data, then an egress.
type ToolClass uint8

const (
	ToolClassOther     ToolClass = iota
	ToolClassRead                // reads files, resources, databases
	ToolClassWrite               // writes or edits
	ToolClassEgress              // reaches the network (fetch-like tools, http(s) resources)
	ToolClassExec                // runs a command
	ToolClassSecrets             // returns credentials or the environment
	ToolClassDiscovery           // lists tools, resources, prompts, directories
	numToolClasses
)

var toolClassNames = [numToolClasses]string{"other", "read", "write", "egress", "exec", "secrets", "discovery"}

func (t ToolClass) String() string {
	if t < numToolClasses {
		return toolClassNames[t]
	}
	return "other"
}

// Normalised BlockType values for agent telemetry.
const (
	BlockTypeTool      = "tool"      // tools/call, execute_tool, a coding agent's tool event
	BlockTypeResource  = "resource"  // resources/read, subscribe
	BlockTypePrompt    = "prompt"    // prompts/get
	BlockTypeDiscovery = "discovery" // */list, initialize
	BlockTypeServerReq = "server_request"
	BlockTypeAgent     = "agent"        // invoke_agent, the session span
	BlockTypeDecision  = "decision"     // tool_decision, sandbox_outcome
	BlockTypeNotify    = "notification" // notifications/*
)

// AgentInfo is the agent part of an Event. Its strings point into pdata,
// like the rest of the Event.
type AgentInfo struct {
	Emitter Emitter
	Side    Side
	// Agent names the acting agent: gen_ai.agent.name, the agent's
	// service.name, or the emitter's own id (claude-code, codex...). Empty
	// on MCP server spans (the server does not know its agent).
	Agent string
	// Tool is the tool name without any server prefix.
	Tool string
	// Method is the MCP method as sent (tools/call, resources/read...).
	Method string
	// Session groups the calls of one agent session: gen_ai.conversation.id,
	// mcp.session.id, session.id, conversation.id; for Traceloop the session
	// span's ID in hex (one client connection to one server).
	Session string
	// Prompt groups the calls of one turn: prompt.id, prompt_id.
	Prompt string
	// CallKey identifies one tool call across the records that report it:
	// gen_ai.tool.call.id, tool_use_id, call_id, or jsonrpc.request.id
	// qualified by the session. Empty when the emitter records none.
	CallKey string
	// Class is what the tool does, from a known server's declared table,
	// the tool name, or the captured arguments.
	Class ToolClass
	// ContentCaptured is true when arguments or results were recorded, so
	// Target is as good as the emitter can give.
	ContentCaptured bool
	// DescriptionHash is a hash of the tool's description or definition
	// when the record carries one (0 when not): drift detection compares it.
	DescriptionHash uint64
	// ListedTools are the tool names of a tools/list result, when recorded,
	// comma-joined in the order listed (a copy owned by the Event).
	ListedTools string
	// ListChanged is set on notifications/tools/list_changed.
	ListChanged bool
	// ListedToolHashes holds, per entry of ListedTools, a hash of that
	// tool's name and description (owned by the Event): a changed hash for
	// the same (server, tool) is a changed description.
	ListedToolHashes []uint64
	// AwaitingSession is set on a record whose server is known only
	// through its session (Traceloop) when that session's identity has not
	// been seen yet: ExtensionID is empty. A consumer may hold the record
	// briefly and classify it again once the session's initialize span
	// has arrived (see agentsession.go).
	AwaitingSession bool
}

// IsAgent reports whether the event came from agent telemetry.
func (e *Event) IsAgent() bool { return e.Agent.Emitter != EmitterNone }
