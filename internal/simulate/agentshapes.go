package simulate

import (
	"encoding/json"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// agentCall is one request of an agent to a server.
type agentCall struct {
	server  *simServer
	tool    string         // tools/call
	method  string         // "" (tools/call), resources/read, tools/list, notifications/tools/list_changed
	uri     string         // resources/read
	args    map[string]any // captured only when the agent captures content
	result  string
	isError bool
	// decision, for the coding agents' log events: reject, denied...
	decision string
	// descriptions override the listed descriptions (tools/list).
	descriptions map[string]string
	// tools lists extra tools a tools/list returns (shadowing).
	tools []simTool
}

// sessionWriter writes one agent session in the agent's emitter's shape.
type sessionWriter struct {
	g       *AgentGenerator
	agent   *SimAgent
	td      ptrace.Traces
	ld      plog.Logs
	trace   pcommon.TraceID
	root    ptrace.Span
	spans   ptrace.SpanSlice
	logs    plog.LogRecordSlice
	servers map[string]ptrace.SpanSlice // MCP server spans, one resource per server
	tl      map[string]ptrace.Span      // Traceloop session span per server
	start   time.Time
	cursor  time.Time
	session string
	n       int
	traces  []pcommon.TraceID
}

func ts(t time.Time) pcommon.Timestamp { return pcommon.NewTimestampFromTime(t) }

func (g *AgentGenerator) newSession(a *SimAgent, t time.Time) *sessionWriter {
	g.mu.Lock()
	a.sessions++
	session := fmt.Sprintf("%s-s%d", a.ID, a.sessions)
	g.mu.Unlock()
	w := &sessionWriter{g: g, agent: a, td: ptrace.NewTraces(), ld: plog.NewLogs(), start: t, cursor: t, session: session,
		servers: map[string]ptrace.SpanSlice{}, tl: map[string]ptrace.Span{}}
	w.trace = g.traceID()
	w.traces = []pcommon.TraceID{w.trace}
	switch a.Emitter {
	case EmitterClaudeCode, EmitterCodex, EmitterGeminiCLI:
		rl := w.ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("service.name", a.ID)
		sl := rl.ScopeLogs().AppendEmpty()
		sl.Scope().SetName(map[string]string{EmitterClaudeCode: "com.anthropic.claude_code.events", EmitterCodex: "codex_otel", EmitterGeminiCLI: "gemini-cli"}[a.Emitter])
		w.logs = sl.LogRecords()
		return w
	}
	rs := w.td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", a.ID)
	ss := rs.ScopeSpans().AppendEmpty()
	w.spans = ss.Spans()
	w.root = w.spans.AppendEmpty()
	w.root.SetTraceID(w.trace)
	w.root.SetSpanID(g.spanID())
	w.root.SetStartTimestamp(ts(t))
	switch a.Emitter {
	case EmitterTraceloop:
		ss.Scope().SetName("@traceloop/instrumentation-mcp")
		ss.Scope().SetVersion("0.27.0")
		w.root.SetName("agent.run") // the application's own span; sessions open under it
	default:
		ss.Scope().SetName(a.Emitter + "-agent")
		w.root.SetName("invoke_agent " + a.ID)
		at := w.root.Attributes()
		at.PutStr("gen_ai.operation.name", "invoke_agent")
		at.PutStr("gen_ai.agent.name", a.ID)
		at.PutStr("gen_ai.conversation.id", session)
	}
	return w
}

// child appends a span of the agent's process under parent.
func (w *sessionWriter) child(name string, kind ptrace.SpanKind, parent ptrace.Span, d time.Duration) ptrace.Span {
	sp := w.spans.AppendEmpty()
	sp.SetTraceID(parent.TraceID())
	sp.SetSpanID(w.g.spanID())
	sp.SetParentSpanID(parent.SpanID())
	sp.SetName(name)
	sp.SetKind(kind)
	sp.SetStartTimestamp(ts(w.cursor))
	sp.SetEndTimestamp(ts(w.cursor.Add(d)))
	return sp
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func (w *sessionWriter) fail(sp ptrace.Span, c *agentCall) {
	if c.isError {
		sp.Status().SetCode(ptrace.StatusCodeError)
		sp.Status().SetMessage(c.result)
	}
}

// call writes one request in the agent's shape.
func (w *sessionWriter) call(c agentCall) {
	w.n++
	d := time.Duration(20+w.g.intn(180)) * time.Millisecond
	w.cursor = w.cursor.Add(time.Duration(5+w.g.intn(50)) * time.Millisecond)
	if c.method == "" {
		c.method = "tools/call"
	}
	switch w.agent.Emitter {
	case EmitterGenAI:
		w.genai(&c, d)
	case EmitterMCP:
		w.mcp(&c, d)
	case EmitterTraceloop:
		w.traceloop(&c, d)
	default:
		w.logEvent(&c, d)
	}
	w.cursor = w.cursor.Add(d)
}

// genai: Goose's execute_tool span, <extension>__<tool>.
func (w *sessionWriter) genai(c *agentCall, d time.Duration) {
	if c.method != "tools/call" {
		return // Goose records tool calls only
	}
	sp := w.child("execute_tool "+c.server.Name+"__"+c.tool, ptrace.SpanKindInternal, w.root, d)
	at := sp.Attributes()
	at.PutStr("gen_ai.operation.name", "execute_tool")
	at.PutStr("gen_ai.tool.name", c.server.Name+"__"+c.tool)
	at.PutStr("gen_ai.tool.call.id", fmt.Sprintf("toolu_%s_%d", w.session, w.n))
	at.PutStr("gen_ai.conversation.id", w.session)
	if w.agent.Content {
		at.PutStr("gen_ai.tool.call.arguments", jsonOf(c.args))
		at.PutStr("gen_ai.tool.call.result", jsonOf([]any{map[string]any{"type": "text", "text": c.result}}))
	}
	if c.isError {
		at.PutStr("error.type", "tool_error")
		w.fail(sp, c)
	}
}

// mcp: the MCP conventions; the agent's execute_tool span, the client span
// under it (exported first: it ends first) and the server span in the
// server's own process, under the client span when _meta carries the
// context, else a trace of its own.
func (w *sessionWriter) mcp(c *agentCall, d time.Duration) {
	name := c.method
	if c.tool != "" {
		name += " " + c.tool
	}
	rpcID := fmt.Sprint(w.n + 1)
	mcpSession := w.session + "-" + c.server.Name
	var client ptrace.Span
	if c.method != "notifications/tools/list_changed" {
		var agentSpan ptrace.Span
		if c.method == "tools/call" {
			agentSpan = ptrace.NewSpan() // appended after the client span
			agentSpan.SetTraceID(w.trace)
			agentSpan.SetSpanID(w.g.spanID())
			agentSpan.SetParentSpanID(w.root.SpanID())
		} else {
			agentSpan = w.root
		}
		client = w.child(name, ptrace.SpanKindClient, agentSpan, d-time.Millisecond)
		at := client.Attributes()
		at.PutStr("mcp.method.name", c.method)
		if c.tool != "" {
			at.PutStr("gen_ai.tool.name", c.tool)
			at.PutStr("gen_ai.operation.name", "execute_tool")
		}
		if c.uri != "" {
			at.PutStr("mcp.resource.uri", c.uri)
		}
		at.PutStr("jsonrpc.request.id", rpcID)
		at.PutStr("mcp.session.id", mcpSession)
		at.PutStr("server.address", c.server.Service)
		at.PutInt("server.port", 8080)
		at.PutStr("network.transport", "tcp")
		if c.isError {
			at.PutStr("error.type", "tool_error")
			w.fail(client, c)
		}
		if c.method == "tools/call" {
			sp := w.spans.AppendEmpty()
			agentSpan.CopyTo(sp)
			sp.SetName("execute_tool " + c.tool)
			sp.SetKind(ptrace.SpanKindInternal)
			sp.SetStartTimestamp(ts(w.cursor))
			sp.SetEndTimestamp(ts(w.cursor.Add(d)))
			sp.Attributes().PutStr("gen_ai.operation.name", "execute_tool")
			sp.Attributes().PutStr("gen_ai.tool.name", c.tool)
			sp.Attributes().PutStr("gen_ai.tool.call.id", fmt.Sprintf("call_%s_%d", w.session, w.n))
			sp.Attributes().PutStr("gen_ai.conversation.id", w.session)
			w.fail(sp, c)
		}
	}
	srv := w.serverSpans(c.server)
	sp := srv.AppendEmpty()
	sp.SetSpanID(w.g.spanID())
	if w.agent.Meta && client != (ptrace.Span{}) {
		sp.SetTraceID(client.TraceID())
		sp.SetParentSpanID(client.SpanID())
	} else {
		id := w.g.traceID()
		sp.SetTraceID(id)
		w.traces = append(w.traces, id)
	}
	sp.SetName(name)
	sp.SetKind(ptrace.SpanKindServer)
	sp.SetStartTimestamp(ts(w.cursor.Add(time.Millisecond)))
	sp.SetEndTimestamp(ts(w.cursor.Add(d - 2*time.Millisecond)))
	at := sp.Attributes()
	at.PutStr("mcp.method.name", c.method)
	at.PutStr("mcp.session.id", mcpSession)
	if c.method != "notifications/tools/list_changed" {
		at.PutStr("jsonrpc.request.id", rpcID)
	}
	if c.tool != "" {
		at.PutStr("gen_ai.tool.name", c.tool)
	}
	if c.uri != "" {
		at.PutStr("mcp.resource.uri", c.uri)
	}
	if w.agent.Content && c.args != nil {
		at.PutStr("gen_ai.tool.call.arguments", jsonOf(c.args))
	}
	if c.isError {
		at.PutStr("error.type", "tool_error")
		w.fail(sp, c)
	}
}

func (w *sessionWriter) serverSpans(s *simServer) ptrace.SpanSlice {
	if ss, ok := w.servers[s.Name]; ok {
		return ss
	}
	rs := w.td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", s.Service)
	sc := rs.ScopeSpans().AppendEmpty()
	sc.Scope().SetName("mcp-server")
	w.servers[s.Name] = sc.Spans()
	return sc.Spans()
}

// traceloop: one mcp.client.session per server, opened under the agent's
// span with initialize and tools/list, then <tool>.tool spans.
func (w *sessionWriter) traceloop(c *agentCall, d time.Duration) {
	sess := w.traceloopSession(c.server, c)
	switch c.method {
	case "tools/call":
		sp := w.child(c.tool+".tool", ptrace.SpanKindClient, sess, d)
		at := sp.Attributes()
		at.PutStr("traceloop.span.kind", "tool")
		at.PutStr("traceloop.entity.name", c.tool)
		if w.agent.Content {
			at.PutStr("traceloop.entity.input", jsonOf(map[string]any{"tool_name": c.tool, "arguments": c.args}))
			out := map[string]any{"result": c.result}
			if c.isError {
				out["is_error"] = true
			}
			at.PutStr("traceloop.entity.output", jsonOf(out))
		}
		w.fail(sp, c)
	case "resources/read":
		sp := w.child("resources/read.mcp", ptrace.SpanKindClient, sess, d)
		if w.agent.Content {
			sp.Attributes().PutStr("traceloop.entity.input", jsonOf(map[string]any{"uri": c.uri}))
		}
		w.fail(sp, c)
	case "tools/list":
		w.traceloopList(sess, c, d)
	}
}

func (w *sessionWriter) traceloopSession(s *simServer, c *agentCall) ptrace.Span {
	if sp, ok := w.tl[s.Name]; ok {
		return sp
	}
	sess := w.child("mcp.client.session", ptrace.SpanKindClient, w.root, 0)
	sess.Attributes().PutStr("traceloop.span.kind", "session")
	sess.Attributes().PutStr("traceloop.entity.name", "mcp.client.session")
	w.tl[s.Name] = sess
	in := w.child("initialize.mcp", ptrace.SpanKindClient, sess, 3*time.Millisecond)
	if w.agent.Content {
		in.Attributes().PutStr("traceloop.entity.input", `{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"`+w.agent.ID+`","version":"1.0.0"}}`)
		in.Attributes().PutStr("traceloop.entity.output", `{"protocolVersion":"2025-11-25","capabilities":{"tools":{"listChanged":true}},"serverInfo":{"name":"`+s.Info+`","version":"1.0.0"}}`)
	}
	if c.method != "tools/list" {
		w.traceloopList(sess, &agentCall{server: s}, 2*time.Millisecond)
	}
	return sess
}

func (w *sessionWriter) traceloopList(sess ptrace.Span, c *agentCall, d time.Duration) {
	sp := w.child("tools/list.mcp", ptrace.SpanKindClient, sess, d)
	if !w.agent.Content {
		return
	}
	var tools []map[string]any
	for _, t := range append(append([]simTool(nil), c.server.Tools...), c.tools...) {
		desc := t.description
		if o, ok := c.descriptions[t.name]; ok {
			desc = o
		}
		tools = append(tools, map[string]any{"name": t.name, "description": desc})
	}
	sp.Attributes().PutStr("traceloop.entity.output", jsonOf(map[string]any{"tools": tools}))
}

// logEvent: a coding agent's tool log events (a decision first when the
// call is refused).
func (w *sessionWriter) logEvent(c *agentCall, d time.Duration) {
	if c.method != "tools/call" {
		return // the coding agents log tool calls only
	}
	callID := fmt.Sprintf("call_%s_%d", w.session, w.n)
	rec := w.logs.AppendEmpty()
	rec.SetTimestamp(ts(w.cursor))
	at := rec.Attributes()
	failed := c.isError || c.decision != ""
	switch w.agent.Emitter {
	case EmitterClaudeCode:
		if c.decision != "" { // refused: a decision, no result
			rec.Body().SetStr("claude_code.tool_decision")
			at.PutStr("event.name", "claude_code.tool_decision")
			at.PutStr("session.id", w.session)
			at.PutStr("tool_name", "mcp__"+c.server.Name+"__"+c.tool)
			at.PutStr("tool_use_id", callID)
			at.PutStr("decision", c.decision)
			at.PutStr("source", "user_reject")
			return
		}
		rec.Body().SetStr("claude_code.tool_result")
		at.PutStr("event.name", "claude_code.tool_result")
		at.PutStr("session.id", w.session)
		at.PutStr("prompt.id", fmt.Sprintf("%s-p%d", w.session, w.n/3))
		at.PutStr("tool_name", "mcp__"+c.server.Name+"__"+c.tool)
		at.PutStr("tool_use_id", callID)
		at.PutStr("success", fmt.Sprint(!failed))
		at.PutInt("duration_ms", d.Milliseconds())
		if c.isError {
			at.PutStr("error", c.result)
		}
		if w.agent.Content {
			at.PutStr("tool_parameters", jsonOf(map[string]any{"mcp_server_name": c.server.Name, "mcp_tool_name": c.tool}))
			at.PutStr("tool_input", jsonOf(c.args))
		}
	case EmitterCodex:
		if c.decision != "" {
			at.PutStr("event.name", "codex.tool_decision")
			at.PutStr("conversation.id", w.session)
			at.PutStr("tool_name", c.tool)
			at.PutStr("call_id", callID)
			at.PutStr("decision", c.decision)
			at.PutStr("source", "User")
			return
		}
		at.PutStr("event.name", "codex.tool_result")
		at.PutStr("conversation.id", w.session)
		at.PutStr("tool_name", c.tool)
		at.PutStr("call_id", callID)
		at.PutStr("mcp_server", c.server.Name)
		at.PutStr("arguments", jsonOf(c.args)) // Codex logs arguments and output ungated
		at.PutStr("output", c.result)
		at.PutStr("success", fmt.Sprint(!failed))
		at.PutInt("duration_ms", d.Milliseconds())
	case EmitterGeminiCLI:
		at.PutStr("event.name", "gemini_cli.tool_call")
		at.PutStr("session.id", w.session)
		at.PutStr("prompt_id", fmt.Sprintf("%s-p%d", w.session, w.n/3))
		at.PutStr("function_name", c.tool)
		at.PutStr("tool_type", "mcp")
		at.PutStr("mcp_server_name", c.server.Name)
		at.PutBool("success", !failed)
		decision := "auto_accept"
		if c.decision != "" {
			decision = "reject"
		}
		at.PutStr("decision", decision)
		at.PutInt("duration_ms", d.Milliseconds())
		if c.isError {
			at.PutStr("error", c.result)
		}
		if w.agent.Content {
			at.PutStr("function_args", jsonOf(c.args))
		}
	}
}

// finish ends the session's spans and returns its telemetry.
func (w *sessionWriter) finish() (ptrace.Traces, plog.Logs) {
	end := ts(w.cursor.Add(5 * time.Millisecond))
	if w.root != (ptrace.Span{}) {
		w.root.SetEndTimestamp(end)
	}
	for _, s := range w.tl {
		s.SetEndTimestamp(end)
	}
	return w.td, w.ld
}
