package sandboxevent

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// The span side of the agents profile: GenAI agent spans, MCP spans on the
// conventions, on mark3labs/mcp-go's otel keys and on
// @traceloop/instrumentation-mcp's. The README's event-model section has
// the table of emitters and keys.

const (
	traceloopInitialize = "initialize.mcp"
	traceloopSession    = "mcp.client.session"
)

// isAgentSpanName recognises agent spans by name alone: Traceloop request
// spans carry no attribute at all when content capture is off.
func isAgentSpanName(name string) bool {
	// Fast reject for the names of every other span: agent span names end
	// in "p" (.mcp), "n" (mcp.client.session) or start with e/i.
	if len(name) < 8 {
		return false
	}
	if last, first := name[len(name)-1], name[0]|0x20; last != 'p' && last != 'n' && first != 'e' && first != 'i' {
		return false
	}
	switch {
	case name == traceloopSession, name == traceloopInitialize, name == "ping.mcp":
		return true
	case strings.HasSuffix(name, ".mcp"):
		return strings.IndexByte(name, '/') > 0 // tools/list.mcp, resources/read.mcp...
	case hasPrefixFold(name, "execute_tool"), hasPrefixFold(name, "invoke_agent"):
		return true
	}
	return false
}

// spanAttrs holds the agent keys of one span, read in one pass.
type spanAttrs struct {
	op, tool, mcpTool, method, callID, rpcID, session, agentName, toolType string
	desc, uri, errType, promptName, promptID                               string
	tlKind, tlName, tlIn, tlOut                                            string
	server, serverHash, serverAddr, command, filePath                      string
	args, result                                                           pcommon.Value
	hasArgs, hasResult, mcpGoMethod                                        bool
}

func (a *spanAttrs) read(attrs pcommon.Map) {
	for k, v := range attrs.All() {
		switch k {
		case "gen_ai.operation.name":
			a.op = v.Str()
		case "gen_ai.tool.name":
			a.tool = v.Str()
		case "mcp.tool.name":
			a.mcpTool = v.Str()
		case "mcp.method.name":
			a.method = v.Str()
		case "mcp.method":
			if a.method == "" {
				a.method, a.mcpGoMethod = v.Str(), true
			}
		case "gen_ai.tool.call.id", "gen_ai.tool.call_id", "tool_use_id":
			a.callID = valueString(v)
		case "jsonrpc.request.id":
			a.rpcID = valueString(v)
		case "gen_ai.conversation.id", "mcp.session.id", "session.id", "conversation.id":
			if a.session == "" || k == "gen_ai.conversation.id" || k == "mcp.session.id" {
				a.session = valueString(v)
			}
		case "gen_ai.agent.name":
			a.agentName = v.Str()
		case "gen_ai.tool.type":
			a.toolType = v.Str()
		case "gen_ai.tool.call.arguments", "mcp.tool.arguments":
			a.args, a.hasArgs = v, true
		case "gen_ai.tool.call.result":
			a.result, a.hasResult = v, true
		case "gen_ai.tool.description":
			a.desc = v.Str()
		case "mcp.resource.uri":
			a.uri = v.Str()
		case "error.type":
			a.errType = valueString(v)
		case "gen_ai.prompt.name":
			a.promptName = v.Str()
		case "prompt.id", "prompt_id":
			a.promptID = valueString(v)
		case "traceloop.span.kind":
			a.tlKind = v.Str()
		case "traceloop.entity.name":
			a.tlName = v.Str()
		case "traceloop.entity.input":
			a.tlIn = v.Str()
		case "traceloop.entity.output":
			a.tlOut = v.Str()
		case "github.copilot.tool.parameters.mcp_server_name", "mcp.server.name":
			a.server = v.Str()
		case "github.copilot.tool.parameters.mcp_server_name_hash":
			a.serverHash = v.Str()
		case "github.copilot.tool.parameters.command":
			a.command = v.Str()
		case "github.copilot.tool.parameters.file_path":
			a.filePath = v.Str()
		case "server.address":
			a.serverAddr = v.Str()
		}
	}
}

// extractSpan classifies an agent span into ev; false when the span turns
// out not to be one (ev keeps the key table's classification).
func (c *Classifier) extractSpan(span ptrace.Span, rc *ResourceContext, ev *Event) bool {
	keyTableExt := ev.ExtensionID // an explicit sandbox extension id, if any
	var a spanAttrs
	a.read(span.Attributes())
	name := span.Name()
	service := ""
	if rc != nil {
		service = rc.service
	}
	var ag AgentInfo
	var args argFacts
	var out outputFacts
	var server, set string
	statusMsg := span.Status().Message()
	isErr := span.Status().Code() == ptrace.StatusCodeError

	switch {
	case a.tlKind != "" || a.tlIn != "" || a.tlOut != "" || a.tlName != "" || strings.HasSuffix(name, ".mcp") || name == traceloopSession:
		ag.Emitter = EmitterTraceloop
		ag.Agent = service
		ag.Side = SideMCPClient
		if span.Kind() == ptrace.SpanKindServer {
			ag.Side = SideMCPServer // a server-to-client request (sampling, roots, elicitation)
		}
		var entry sessionEntry
		var known bool
		switch {
		case name == traceloopSession || a.tlKind == "session":
			entry, known = c.sessions.lookup(span.TraceID(), span.SpanID())
			ag.Method = ""
		case strings.HasSuffix(name, ".tool") || a.tlKind == "tool":
			ag.Method = "tools/call"
			ag.Tool = a.tlName
			if ag.Tool == "" {
				ag.Tool = strings.TrimSuffix(name, ".tool")
			}
		default:
			ag.Method = strings.TrimSuffix(name, ".mcp")
		}
		if ag.Method != "" {
			entry, known = c.sessions.lookup(span.TraceID(), span.ParentSpanID())
			if !known && ag.Method == "initialize" {
				if s := c.learnInitialize(span); s != "" {
					entry, known = c.sessions.lookup(span.TraceID(), span.ParentSpanID())
				}
			}
		}
		ag.ContentCaptured = a.tlIn != "" || a.tlOut != ""
		if known {
			server, ag.Session = entry.server, entry.id
		} else {
			// Without content no initialize output will ever name the
			// server: only a record that can be resolved waits.
			ag.AwaitingSession = ag.ContentCaptured
		}
		if a.tlIn != "" && (ag.Method == "tools/call" || ag.Method == "resources/read" || ag.Method == "prompts/get") {
			walkJSON(a.tlIn, args.take)
			args.captured = true
		}
		// The output is read for a listing, and for the error text of a
		// failure without a status message: a tool's result can be a
		// whole file, and Traceloop sets the status on is_error anyway.
		if a.tlOut != "" && (ag.Method == "tools/list" || (isErr && statusMsg == "")) {
			out.read(a.tlOut, ag.Method == "tools/list")
		}
	case a.method != "" || a.mcpTool != "":
		ag.Emitter = EmitterMCP
		if a.mcpGoMethod || a.method == "" {
			ag.Emitter = EmitterMCPGo
		}
		ag.Method = a.method
		if ag.Method == "" {
			ag.Method = "tools/call" // mcp-go's tool.<name> handler span
		}
		ag.Tool = a.tool
		if ag.Tool == "" {
			ag.Tool = a.mcpTool
		}
		switch span.Kind() {
		case ptrace.SpanKindClient:
			ag.Side = SideMCPClient
			ag.Agent = service
			server = a.server
			if server == "" {
				server = a.serverAddr // the MCP server itself, never an egress destination
			}
		default: // SERVER, or the INTERNAL handler span of mcp-go
			ag.Side = SideMCPServer
			server = service
		}
		ag.Session = a.session
		if a.hasArgs {
			args.readValue(a.args)
		}
		if a.hasResult && a.result.Type() == pcommon.ValueTypeStr && (ag.Method == "tools/list" || (isErr && statusMsg == "")) {
			out.read(a.result.Str(), ag.Method == "tools/list")
		}
		ag.ContentCaptured = args.captured || a.hasResult
	case a.op != "" || a.tool != "" || hasPrefixFold(name, "execute_tool") || hasPrefixFold(name, "invoke_agent"):
		ag.Emitter = EmitterGenAI
		ag.Side = SideAgent
		ag.Agent = a.agentName
		if ag.Agent == "" {
			ag.Agent = service
		}
		ag.Session = a.session
		op := a.op
		if op == "" {
			op, _, _ = strings.Cut(name, " ")
		}
		switch op {
		case "execute_tool", "tool_call":
			tool := a.tool
			if tool == "" {
				_, tool, _ = strings.Cut(name, " ")
			}
			server, ag.Tool = splitToolName(tool)
			if server == "" {
				server = a.server
			}
			if server == "" && a.serverHash != "" {
				server = a.serverHash
			}
		case "invoke_agent", "create_agent", "invoke_workflow", "plan":
		default:
			// chat, embeddings...: the agent's own call to its model. The
			// key table's classification stands (server.address is the
			// model provider, a real destination), attributed to the agent.
			if ev.ExtensionID == "" {
				ev.ExtensionID = ag.Agent
			}
			return false
		}
		if a.hasArgs {
			args.readValue(a.args)
		}
		if a.command != "" && args.command == "" {
			args.command, args.captured = a.command, true
		}
		if a.filePath != "" && args.path == "" {
			args.path, args.captured = a.filePath, true
		}
		ag.ContentCaptured = args.captured || a.hasResult
		if op != "execute_tool" && op != "tool_call" {
			ag.Method = ""
			ext := keyTableExt
			if ext == "" {
				ext = ag.Agent
			}
			*ev = Event{ExtensionID: ext, BlockType: BlockTypeAgent, Agent: ag, Operation: op}
			ev.Agent.Class = ToolClassOther
			c.agentOutcome(ev, isErr, a.errType, statusMsg, &out)
			return true
		}
	default:
		return false
	}
	if a.callID != "" {
		ag.CallKey = a.callID
	} else if a.rpcID != "" && ag.Session != "" {
		ag.CallKey = ag.Session + "/" + a.rpcID
	}
	ag.Prompt = a.promptID
	ag.DescriptionHash = DescriptionHash(a.desc)
	if len(out.listed) > 0 {
		ag.ListedTools = string(out.listed)
		ag.ListedToolHashes = out.hashes
		ag.DescriptionHash = out.listHash
	}
	ag.ListChanged = ag.Method == "notifications/tools/list_changed"
	if args.server != "" && server == "" {
		server = args.server
	}
	if args.tool != "" && ag.Tool == "" {
		ag.Tool = args.tool
	}
	set = server
	if server == "" && ag.Side == SideAgent {
		server, set = ag.Agent, ag.Agent // the agent's own built-in tool set
	}
	if a.uri != "" && args.uri == "" {
		args.uri = a.uri
	}
	*ev = Event{ExtensionID: server, Agent: ag}
	ev.BlockType = blockTypeOf(ag.Method, ag.Side)
	if ag.Side == SideAgent {
		ev.BlockType = BlockTypeTool
	}
	if ag.Emitter == EmitterTraceloop && ag.Method == "" {
		ev.BlockType = BlockTypeAgent // the session span
	}
	finishAgent(ev, set, &args)
	c.agentOutcome(ev, isErr, a.errType, statusMsg, &out)
	return true
}

// splitToolName splits the server prefix off a tool name where the emitter
// encodes it: mcp__<server>__<tool> (Claude Code, and Codex for MCP tools)
// and <extension>__<tool> (Goose).
func splitToolName(tool string) (server, name string) {
	rest := strings.TrimPrefix(tool, "mcp__")
	if i := strings.Index(rest, "__"); i > 0 && i+2 < len(rest) {
		return rest[:i], rest[i+2:]
	}
	return "", tool
}

// blockTypeOf normalises an MCP method (see the BlockType* constants).
func blockTypeOf(method string, side Side) string {
	switch {
	case method == "tools/call":
		return BlockTypeTool
	case method == "resources/read", method == "resources/subscribe", method == "resources/unsubscribe":
		return BlockTypeResource
	case method == "prompts/get":
		return BlockTypePrompt
	case strings.HasPrefix(method, "notifications/"):
		return BlockTypeNotify
	case method == "sampling/createMessage", method == "elicitation/create", method == "roots/list":
		return BlockTypeServerReq
	case strings.HasSuffix(method, "/list"), method == "initialize", method == "ping", method == "completion/complete",
		method == "server/discover", method == "logging/setLevel":
		return BlockTypeDiscovery
	case method == "" && side == SideAgent:
		return BlockTypeTool
	}
	return BlockTypeDiscovery
}
