package sandboxevent

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/samples"
)

// agentWant is the expected classification of one agent record (the
// sources of each sample are in testdata/samples/AGENTS.md).
type agentWant struct {
	ext     string
	kind    Kind
	target  string
	outcome Outcome
	block   string
	tool    string
	class   ToolClass
	emitter Emitter
	side    Side
	call    string
	content bool
	egress  bool
	read    bool
}

func checkAgent(t *testing.T, got []Event, wants []agentWant) {
	t.Helper()
	require.Len(t, got, len(wants))
	for i, w := range wants {
		ev := got[i]
		assert.Equal(t, w.ext, ev.ExtensionID, "record %d extension", i)
		assert.Equal(t, w.kind, ev.Kind, "record %d kind", i)
		assert.Equal(t, w.target, ev.Target, "record %d target", i)
		assert.Equal(t, w.outcome, ev.Outcome, "record %d outcome", i)
		assert.Equal(t, w.block, ev.BlockType, "record %d block type", i)
		assert.Equal(t, w.tool, ev.Agent.Tool, "record %d tool", i)
		assert.Equal(t, w.class, ev.Agent.Class, "record %d class", i)
		assert.Equal(t, w.emitter, ev.Agent.Emitter, "record %d emitter", i)
		assert.Equal(t, w.side, ev.Agent.Side, "record %d side", i)
		assert.Equal(t, w.call, ev.Agent.CallKey, "record %d call key", i)
		assert.Equal(t, w.content, ev.Agent.ContentCaptured, "record %d content captured", i)
		assert.Equal(t, w.egress, ev.IsEgress(), "record %d egress", i)
		assert.Equal(t, w.read, ev.IsRead(), "record %d read", i)
	}
}

const (
	fsServer  = "secure-filesystem-server"
	allServer = "mcp-servers/everything"
)

// traceloop_mcp.json was recorded from the real stack (test/mcp/harness):
// server-filesystem and server-everything 2026.8.31 over stdio, the MCP
// SDK client 1.32.2, @traceloop/instrumentation-mcp 0.27.0.
func TestClassifyTraceloopSample(t *testing.T) {
	c := MustNew(Config{})
	td := samples.Traces(t, "traceloop_mcp.json")
	got := classifyAllSpans(c, td)
	tl, cl := EmitterTraceloop, SideMCPClient
	checkAgent(t, got, []agentWant{
		{ext: fsServer, block: BlockTypeDiscovery, class: ToolClassDiscovery, emitter: tl, side: cl, content: true},
		{ext: fsServer, block: BlockTypeDiscovery, class: ToolClassDiscovery, emitter: tl, side: cl, content: true},
		{ext: fsServer, kind: KindFS, target: "/tmp/mcpt/ws/docs/notes.md", block: BlockTypeTool, tool: "read_text_file", class: ToolClassRead, emitter: tl, side: cl, content: true, read: true},
		{ext: fsServer, kind: KindFS, target: "/etc/passwd", outcome: OutcomeDenied, block: BlockTypeTool, tool: "read_text_file", class: ToolClassRead, emitter: tl, side: cl, content: true, read: true},
		{ext: fsServer, kind: KindFS, target: "/tmp/mcpt/ws", block: BlockTypeTool, tool: "list_directory", class: ToolClassDiscovery, emitter: tl, side: cl, content: true},
		{ext: allServer, block: BlockTypeDiscovery, class: ToolClassDiscovery, emitter: tl, side: cl, content: true},
		{ext: allServer, block: BlockTypeTool, tool: "get-env", class: ToolClassSecrets, emitter: tl, side: cl, content: true, read: true},
		{ext: allServer, kind: KindHTTP, target: "127.0.0.1", outcome: OutcomeError, block: BlockTypeTool, tool: "gzip-file-as-resource", class: ToolClassEgress, emitter: tl, side: cl, content: true, egress: true},
		{ext: allServer, kind: KindFS, target: "/tmp/mcpt/ws/docs/notes.md", outcome: OutcomeError, block: BlockTypeResource, class: ToolClassRead, emitter: tl, side: cl, content: true, read: true},
		{ext: fsServer, block: BlockTypeAgent, emitter: tl, side: cl},
		{ext: allServer, block: BlockTypeAgent, emitter: tl, side: cl},
	})
	// The tools/list output names every tool of server-filesystem, each
	// with a description hash.
	list := got[1].Agent
	assert.Equal(t, "read_file,read_text_file,read_media_file,read_multiple_files,write_file,edit_file,create_directory,list_directory,list_directory_with_sizes,directory_tree,move_file,search_files,get_file_info,list_allowed_directories", list.ListedTools)
	assert.Len(t, list.ListedToolHashes, 14)
	assert.NotZero(t, list.DescriptionHash)
	// The session is the session span's ID; every call of one session shares it.
	assert.Equal(t, got[0].Agent.Session, got[3].Agent.Session)
	assert.NotEqual(t, got[0].Agent.Session, got[6].Agent.Session)
	assert.Equal(t, "http://127.0.0.1:9/upload", got[7].URL)
	assert.Equal(t, "denied", got[3].ErrorClass(), "a path outside the allowed roots is a denial")
	assert.Equal(t, CapabilityMCPRoots, got[3].Capability)
}

// TestTraceloopSessionOrder: the tool spans of a session classify the same
// whatever the order and batching of its spans; a tool span seen before
// its session's initialize is marked AwaitingSession, not misattributed.
func TestTraceloopSessionOrder(t *testing.T) {
	td := samples.Traces(t, "traceloop_mcp.json")
	spans := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()

	// One batch, reversed: EachSpan learns the batch's initialize spans first.
	rev := ptrace.NewTraces()
	rs := rev.ResourceSpans().AppendEmpty()
	td.ResourceSpans().At(0).Resource().CopyTo(rs.Resource())
	out := rs.ScopeSpans().AppendEmpty().Spans()
	for i := spans.Len() - 1; i >= 0; i-- {
		spans.At(i).CopyTo(out.AppendEmpty())
	}
	c := MustNew(Config{})
	for _, ev := range classifyAllSpans(c, rev) {
		assert.NotEmpty(t, ev.ExtensionID)
		assert.False(t, ev.Agent.AwaitingSession)
	}

	// Span by span, the tool span first: it waits, then resolves.
	c = MustNew(Config{})
	tool := spans.At(3) // read_text_file /etc/passwd
	var ev Event
	c.ClassifySpan(tool, nil, &ev)
	assert.Equal(t, "", ev.ExtensionID)
	assert.True(t, ev.Agent.AwaitingSession)
	assert.Equal(t, "read_text_file", ev.Agent.Tool)
	c.ClassifySpan(spans.At(0), nil, &ev) // initialize.mcp
	assert.Equal(t, fsServer, ev.ExtensionID)
	c.ClassifySpan(tool, nil, &ev)
	assert.Equal(t, fsServer, ev.ExtensionID)
	assert.False(t, ev.Agent.AwaitingSession)
}

func TestTraceloopWithoutContent(t *testing.T) {
	// traceContent: false leaves the span names and the tool's entity name:
	// the tool and its class are known, the server and targets are not,
	// and nothing waits for an identity that will never come.
	td := samples.Traces(t, "traceloop_mcp.json")
	spans := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	for i := 0; i < spans.Len(); i++ {
		attrs := spans.At(i).Attributes()
		attrs.Remove("traceloop.entity.input")
		attrs.Remove("traceloop.entity.output")
	}
	got := classifyAllSpans(MustNew(Config{}), td)
	assert.Equal(t, "read_text_file", got[2].Agent.Tool)
	assert.Equal(t, ToolClassRead, got[2].Agent.Class)
	assert.Equal(t, "", got[2].ExtensionID)
	assert.False(t, got[2].Agent.AwaitingSession)
	assert.False(t, got[2].Agent.ContentCaptured)
	assert.Equal(t, OutcomeDenied, got[3].Outcome, "the status message still says access denied")
	assert.Equal(t, "tools/list", got[1].Agent.Method, "a bare span name is enough")
}

func TestClassifyGenAISample(t *testing.T) {
	got := classifyAllSpans(MustNew(Config{}), samples.Traces(t, "genai_agents.json"))
	g, ag := EmitterGenAI, SideAgent
	checkAgent(t, got, []agentWant{
		{ext: "goose", block: BlockTypeAgent, emitter: g, side: ag},
		{ext: "developer", kind: KindExec, target: "ls", block: BlockTypeTool, tool: "shell", class: ToolClassExec, emitter: g, side: ag, call: "toolu_01", content: true},
		{ext: "filesystem", kind: KindFS, target: "/home/agent/.ssh/id_rsa", block: BlockTypeTool, tool: "read_text_file", class: ToolClassRead, emitter: g, side: ag, call: "toolu_02", content: true, read: true},
		{ext: "fetch", kind: KindHTTP, target: "paste.evil.example", block: BlockTypeTool, tool: "fetch", class: ToolClassEgress, emitter: g, side: ag, call: "toolu_03", content: true, egress: true},
		{ext: "developer", kind: KindExec, outcome: OutcomeError, block: BlockTypeTool, tool: "shell", class: ToolClassExec, emitter: g, side: ag, call: "toolu_04"},
		// A chat span is the agent's own call to its model: the key table's
		// classification, attributed to the agent.
		{ext: "goose", kind: KindNet, target: "api.anthropic.com", egress: true},
		{ext: "9f86d081884c7d65", block: BlockTypeTool, tool: "create_issue", class: ToolClassWrite, emitter: g, side: ag, call: "call_9"},
		{ext: "github-copilot", kind: KindExec, target: "npm", block: BlockTypeTool, tool: "run_in_terminal", class: ToolClassExec, emitter: g, side: ag, call: "call_10", content: true},
		{ext: "gemini-cli", block: BlockTypeTool, tool: "read_file", class: ToolClassRead, emitter: g, side: ag, call: "gem-1", read: true},
	})
	assert.Equal(t, "tool_execution_error", got[4].ErrorCode)
	assert.Equal(t, "20260802_17", got[1].Agent.Session)
	assert.Equal(t, DescriptionHash("Create an issue in a GitHub repository"), got[6].Agent.DescriptionHash)
}

func TestClassifyMCPSemconvSample(t *testing.T) {
	got := classifyAllSpans(MustNew(Config{}), samples.Traces(t, "mcp_semconv.json"))
	m, srv := EmitterMCP, SideMCPServer
	checkAgent(t, got, []agentWant{
		{ext: "ops-agent", block: BlockTypeTool, tool: "read_text_file", class: ToolClassRead, emitter: EmitterGenAI, side: SideAgent, call: "call_abc", read: true},
		// server.address on the client span is the MCP server, not a destination.
		{ext: "files.mcp.internal", block: BlockTypeTool, tool: "read_text_file", class: ToolClassRead, emitter: m, side: SideMCPClient, call: "s-91/3", read: true},
		{ext: "files-mcp", kind: KindFS, target: "/srv/data/q3.csv", block: BlockTypeTool, tool: "read_text_file", class: ToolClassRead, emitter: m, side: srv, call: "s-91/3", content: true, read: true},
		{ext: "files-mcp", kind: KindFS, target: "/srv/data/report.csv", block: BlockTypeResource, class: ToolClassRead, emitter: m, side: srv, call: "s-91/4", read: true},
		{ext: "files-mcp", outcome: OutcomeError, block: BlockTypeTool, tool: "write_file", class: ToolClassWrite, emitter: m, side: srv, call: "s-91/5"},
		{ext: "files-mcp", block: BlockTypeNotify, emitter: m, side: srv},
		{ext: "files-mcp", kind: KindDB, target: "orders", block: BlockTypeResource, class: ToolClassRead, emitter: m, side: srv, call: "s-91/6", read: true},
		{ext: "files-mcp", block: BlockTypeDiscovery, class: ToolClassDiscovery, emitter: m, side: srv, call: "s-91/2"},
	})
	assert.True(t, got[5].Agent.ListChanged)
	assert.Equal(t, "tool_error", got[4].ErrorCode)
	assert.Equal(t, got[1].Agent.CallKey, got[2].Agent.CallKey, "client and server report one call")
}

func TestClassifyMCPGoSample(t *testing.T) {
	got := classifyAllSpans(MustNew(Config{}), samples.Traces(t, "mcp_go.json"))
	g, srv := EmitterMCPGo, SideMCPServer
	checkAgent(t, got, []agentWant{
		{ext: "inventory-mcp", block: BlockTypeTool, tool: "query_stock", class: ToolClassRead, emitter: g, side: srv, read: true},
		{ext: "inventory-mcp", block: BlockTypeTool, tool: "query_stock", class: ToolClassRead, emitter: g, side: srv, read: true},
		{ext: "inventory-mcp", block: BlockTypeDiscovery, class: ToolClassDiscovery, emitter: g, side: srv},
		{ext: "inventory-mcp", outcome: OutcomeError, block: BlockTypeTool, tool: "delete_sku", class: ToolClassWrite, emitter: g, side: srv},
	})
	assert.Equal(t, "mcp-session-5c1f", got[0].Agent.Session)
}

func TestClassifyCodingAgentLogs(t *testing.T) {
	c := MustNew(Config{})
	ag := SideAgent
	t.Run("claude_code", func(t *testing.T) {
		got := classifyAllLogs(c, samples.Logs(t, "claude_code_logs.json"))
		e := EmitterClaudeCode
		checkAgent(t, got, []agentWant{
			{ext: "claude-code", block: BlockTypeDecision, tool: "Read", class: ToolClassRead, emitter: e, side: ag, call: "toolu_A", read: true},
			{ext: "claude-code", kind: KindFS, target: "/home/dev/app/.env", block: BlockTypeTool, tool: "Read", class: ToolClassRead, emitter: e, side: ag, call: "toolu_A", content: true, read: true},
			{ext: "claude-code", kind: KindExec, target: "curl", block: BlockTypeTool, tool: "Bash", class: ToolClassExec, emitter: e, side: ag, call: "toolu_B", content: true},
			{ext: "github", block: BlockTypeTool, tool: "create_issue", class: ToolClassWrite, emitter: e, side: ag, call: "toolu_C", content: true},
			{ext: "claude-code", kind: KindExec, outcome: OutcomeDenied, block: BlockTypeDecision, tool: "Bash", class: ToolClassExec, emitter: e, side: ag, call: "toolu_D"},
			{ext: "claude-code", outcome: OutcomeError, block: BlockTypeTool, tool: "Read", class: ToolClassRead, emitter: e, side: ag, call: "toolu_E", read: true},
			{block: BlockTypeAgent, emitter: e, side: ag},
		})
		assert.Equal(t, "https://paste.evil.example/upload", got[2].URL, "the destination of a command line")
		assert.Equal(t, "ENOENT", got[5].ErrorClass())
		assert.Equal(t, "p-1", got[1].Agent.Prompt)
		assert.Equal(t, CapabilityToolDecision, got[4].Capability)
	})
	t.Run("codex", func(t *testing.T) {
		got := classifyAllLogs(c, samples.Logs(t, "codex_logs.json"))
		e := EmitterCodex
		checkAgent(t, got, []agentWant{
			{ext: "codex_exec", kind: KindExec, block: BlockTypeDecision, tool: "shell", class: ToolClassExec, emitter: e, side: ag, call: "call_1"},
			{ext: "codex_exec", kind: KindExec, target: "bash", block: BlockTypeTool, tool: "shell", class: ToolClassExec, emitter: e, side: ag, call: "call_1", content: true},
			{ext: "codex_exec", kind: KindExec, outcome: OutcomeDenied, block: BlockTypeDecision, tool: "shell", class: ToolClassExec, emitter: e, side: ag, call: "call_2"},
			{ext: "codex_exec", kind: KindExec, outcome: OutcomeDenied, block: BlockTypeDecision, tool: "shell", class: ToolClassExec, emitter: e, side: ag, call: "call_2"},
			{ext: "fetch", kind: KindHTTP, target: "docs.example.org", block: BlockTypeTool, tool: "fetch", class: ToolClassEgress, emitter: e, side: ag, call: "call_3", content: true, egress: true},
			// apply_patch's arguments are not JSON: read as far as possible, never an error.
			{ext: "codex_exec", outcome: OutcomeError, block: BlockTypeTool, tool: "apply_patch", class: ToolClassWrite, emitter: e, side: ag, call: "call_4", content: true},
		})
		assert.Equal(t, "0199-codex", got[1].Agent.Session)
	})
	t.Run("gemini_cli", func(t *testing.T) {
		got := classifyAllLogs(c, samples.Logs(t, "gemini_cli_logs.json"))
		e := EmitterGeminiCLI
		checkAgent(t, got, []agentWant{
			{ext: "gemini-cli", kind: KindFS, target: "/work/repo/README.md", block: BlockTypeTool, tool: "read_file", class: ToolClassRead, emitter: e, side: ag, content: true, read: true},
			{ext: "fetch-server", kind: KindHTTP, target: "api.github.com", block: BlockTypeTool, tool: "fetch", class: ToolClassEgress, emitter: e, side: ag, content: true, egress: true},
			{ext: "gemini-cli", kind: KindExec, target: "rm", outcome: OutcomeDenied, block: BlockTypeTool, tool: "run_shell_command", class: ToolClassExec, emitter: e, side: ag, content: true},
		})
		assert.Equal(t, "gp-2", got[2].Agent.Prompt)
	})
}

// TestAgentsProfileOff: without the agents profile, agent records keep the
// key table's classification (the profile is how an operator opts out).
func TestAgentsProfileOff(t *testing.T) {
	profiles := DefaultProfiles()
	profiles = profiles[:len(profiles)-1]
	require.NotContains(t, profiles, ProfileAgents)
	got := classifyAllSpans(MustNew(Config{Profiles: profiles}), samples.Traces(t, "traceloop_mcp.json"))
	for _, ev := range got {
		assert.False(t, ev.IsAgent())
		assert.Equal(t, "", ev.ExtensionID)
	}
	assert.Contains(t, BuiltinProfiles(), ProfileAgents)
	require.NoError(t, (&Config{Profiles: []string{ProfileAgents}}).Validate())
}

func TestSessionTableBounded(t *testing.T) {
	c := MustNew(Config{AgentSessions: SessionConfig{MaxSessions: 3}})
	span := ptrace.NewSpan()
	span.SetName(traceloopInitialize)
	span.Attributes().PutStr("traceloop.entity.output", `{"serverInfo":{"name":"srv"}}`)
	for i := byte(1); i <= 5; i++ {
		span.SetTraceID(pcommon.TraceID{i})
		span.SetParentSpanID(pcommon.SpanID{i})
		var ev Event
		c.ClassifySpan(span, nil, &ev)
		assert.Equal(t, "srv", ev.ExtensionID)
	}
	assert.Equal(t, 3, c.sessions.Len())
	_, first := c.sessions.lookup(pcommon.TraceID{1}, pcommon.SpanID{1})
	_, last := c.sessions.lookup(pcommon.TraceID{5}, pcommon.SpanID{5})
	assert.False(t, first, "the oldest session is forgotten first")
	assert.True(t, last)
	err := (&Config{AgentSessions: SessionConfig{MaxSessions: -1}}).Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "event_model.agent_sessions.max_sessions")
}

func TestSplitToolNameAndClass(t *testing.T) {
	for in, want := range map[string][2]string{
		"mcp__github__create_issue":  {"github", "create_issue"},
		"developer__shell":           {"developer", "shell"},
		"filesystem__read_text_file": {"filesystem", "read_text_file"},
		"read_file":                  {"", "read_file"},
		"mcp__":                      {"", "mcp__"},
		"a__":                        {"", "a__"},
	} {
		s, n := splitToolName(in)
		assert.Equal(t, want, [2]string{s, n}, in)
	}
	for name, want := range map[string]ToolClass{
		"getEnvironment": ToolClassSecrets, "run_shell_command": ToolClassExec, "http_post": ToolClassEgress,
		"write_file": ToolClassWrite, "search_files": ToolClassDiscovery, "readResource": ToolClassRead,
		"echo": ToolClassOther, "": ToolClassOther,
	} {
		assert.Equal(t, want, classFromName(name), name)
	}
	assert.Equal(t, ToolClassSecrets, classifyTool("mcp-servers/everything", "get-env"))
	assert.Equal(t, ToolClassOther, classifyTool("mcp-servers/everything", "echo"), "the declared table beats the name")
}

func TestJSONArgumentReader(t *testing.T) {
	var f argFacts
	walkJSON(`{"tool_name":"x","arguments":{"paths":["/a\/b","/c"],"url":"https:\/\/h.example\/p","command":["bash","-lc","id"]}}`, f.take)
	assert.Equal(t, "/a/b", f.path, "escapes are decoded")
	assert.Equal(t, "https://h.example/p", f.url)
	assert.Equal(t, "bash", f.command)
	// Truncated and malformed input: what was read before the break stays.
	f = argFacts{}
	walkJSON(`{"path":"/etc/shadow","url":"http://x`, f.take)
	assert.Equal(t, "/etc/shadow", f.path)
	assert.Equal(t, "", f.url)
	f = argFacts{}
	walkJSON(`not json at all`, f.take)
	assert.Equal(t, argFacts{}, f)
	// The byte bound: a target beyond MaxJSONBytes is not read.
	f = argFacts{}
	walkJSON(`{"pad":"`+strings.Repeat("x", MaxJSONBytes)+`","path":"/late"}`, f.take)
	assert.Equal(t, "", f.path)
	assert.Equal(t, "é/x", unescapeJSON(`\u00e9\/x`))
}
