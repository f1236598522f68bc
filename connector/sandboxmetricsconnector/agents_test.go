package sandboxmetricsconnector

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/samples"
)

const fsOps = "sandbox.operations{extension=secure-filesystem-server,kind=fs,"

// The real Traceloop spans (recorded from server-filesystem and
// server-everything): every call counted once per server and tool, the
// denial as a denial, listings not counted, sessions as invocations.
func TestAgentCallsPerServerAndTool(t *testing.T) {
	c, sink := newTestConnector(t, createDefaultConfig())
	ctx := context.Background()
	require.NoError(t, c.ConsumeTraces(ctx, samples.Traces(t, "traceloop_mcp.json")))
	c.flush(ctx)
	got := points(sink.AllMetrics()[0])
	want := map[string]float64{
		fsOps + "outcome=ok,tool=read_text_file}":                                                                 1,
		fsOps + "outcome=denied,tool=read_text_file}":                                                             1,
		fsOps + "outcome=ok,tool=list_directory}":                                                                 1,
		"sandbox.operations{extension=mcp-servers/everything,kind=other,outcome=ok,tool=get-env}":                 1,
		"sandbox.operations{extension=mcp-servers/everything,kind=http,outcome=error,tool=gzip-file-as-resource}": 1,
		"sandbox.operations{extension=mcp-servers/everything,kind=fs,outcome=error,tool=resources/read}":          1,
		"sandbox.egress.operations{extension=mcp-servers/everything,kind=http}":                                   1,
		"sandbox.invocations{extension=secure-filesystem-server,outcome=ok}":                                      1,
		"sandbox.invocations{extension=mcp-servers/everything,outcome=ok}":                                        1,
	}
	for k, v := range want {
		assert.Equal(t, v, got[k], k)
	}
	total := 0.0
	for k, v := range got {
		if len(k) > len("sandbox.operations{") && k[:len("sandbox.operations{")] == "sandbox.operations{" {
			total += v
		}
	}
	assert.Equal(t, 6.0, total, "six calls, no listing or initialize counted: %v", got)
}

// One call reported by the agent, the MCP client and the MCP server counts
// once; mcp-go's dispatcher and handler spans count once.
func TestAgentCallCountedOnce(t *testing.T) {
	c, sink := newTestConnector(t, createDefaultConfig())
	ctx := context.Background()
	require.NoError(t, c.ConsumeTraces(ctx, samples.Traces(t, "mcp_semconv.json")))
	require.NoError(t, c.ConsumeTraces(ctx, samples.Traces(t, "mcp_go.json")))
	// The same batch again (an exporter's retry) counts nothing new.
	require.NoError(t, c.ConsumeTraces(ctx, samples.Traces(t, "mcp_go.json")))
	c.flush(ctx)
	got := points(sink.AllMetrics()[0])
	reads := 0.0
	for k, v := range got {
		if containsAll(k, "sandbox.operations{", "tool=read_text_file") {
			reads += v
		}
	}
	assert.Equal(t, 1.0, reads, "%v", got)
	assert.Equal(t, 1.0, got["sandbox.operations{extension=inventory-mcp,kind=other,outcome=ok,tool=query_stock}"])
	assert.Equal(t, 1.0, got["sandbox.operations{extension=inventory-mcp,kind=other,outcome=error,tool=delete_sku}"])
}

// Coding-agent log events: tool results are operations, decisions are
// capability decisions named by the tool.
func TestAgentLogEvents(t *testing.T) {
	c, sink := newTestConnector(t, createDefaultConfig())
	ctx := context.Background()
	for _, n := range []string{"claude_code_logs.json", "codex_logs.json", "gemini_cli_logs.json"} {
		require.NoError(t, c.ConsumeLogs(ctx, samples.Logs(t, n)))
	}
	c.flush(ctx)
	got := points(sink.AllMetrics()[0])
	for k, v := range map[string]float64{
		"sandbox.operations{extension=claude-code,kind=fs,outcome=ok,tool=Read}":                   1,
		"sandbox.operations{extension=github,kind=other,outcome=ok,tool=create_issue}":             1,
		"sandbox.capability.decisions{extension=claude-code,capability=Bash,decision=denied}":      1,
		"sandbox.capability.decisions{extension=codex_exec,capability=shell,decision=denied}":      2,
		"sandbox.operations{extension=fetch,kind=http,outcome=ok,tool=fetch}":                      1,
		"sandbox.operations{extension=gemini-cli,kind=exec,outcome=denied,tool=run_shell_command}": 1,
	} {
		assert.Equal(t, v, got[k], k)
	}
}

// Traceloop spans whose session's initialize arrives in a later batch are
// held, then attributed; with no initialize at all they are recorded
// unattributed once the wait is over.
func TestAgentSessionWait(t *testing.T) {
	cfg := createDefaultConfig()
	cfg.Agents.SessionWait = 10 * time.Minute
	c, sink := newTestConnector(t, cfg)
	ctx := context.Background()
	td := samples.Traces(t, "traceloop_mcp.json")
	first, later := splitInitialize(td)
	require.NoError(t, c.ConsumeTraces(ctx, first))
	c.mu.Lock()
	waiting := c.held.Len()
	c.mu.Unlock()
	assert.Equal(t, 7, waiting, "the tool and listing spans of both sessions wait")
	require.NoError(t, c.ConsumeTraces(ctx, later))
	c.flush(ctx)
	got := points(sink.AllMetrics()[0])
	assert.Equal(t, 1.0, got[fsOps+"outcome=denied,tool=read_text_file}"], "%v", got)

	cfg = createDefaultConfig()
	cfg.Agents.SessionWait = time.Millisecond
	cfg.UnknownExtension = "unknown"
	c, sink = newTestConnector(t, cfg)
	first, _ = splitInitialize(samples.Traces(t, "traceloop_mcp.json"))
	require.NoError(t, c.ConsumeTraces(ctx, first))
	c.mu.Lock()
	c.releaseHeld(time.Now().Add(time.Second).UnixNano(), false) // the wait is over
	c.mu.Unlock()
	c.flush(ctx)
	got = points(sink.AllMetrics()[0])
	assert.Equal(t, 1.0, got["sandbox.operations{extension=unknown,kind=fs,outcome=denied,tool=read_text_file}"], "%v", got)
}

// splitInitialize moves the initialize spans into a batch of their own.
func splitInitialize(td ptrace.Traces) (rest, inits ptrace.Traces) {
	rest, inits = ptrace.NewTraces(), ptrace.NewTraces()
	rs := td.ResourceSpans().At(0)
	for _, out := range []ptrace.Traces{rest, inits} {
		r := out.ResourceSpans().AppendEmpty()
		rs.Resource().CopyTo(r.Resource())
		r.ScopeSpans().AppendEmpty()
	}
	spans := rs.ScopeSpans().At(0).Spans()
	for i := 0; i < spans.Len(); i++ {
		dst := rest
		if spans.At(i).Name() == "initialize.mcp" {
			dst = inits
		}
		spans.At(i).CopyTo(dst.ResourceSpans().At(0).ScopeSpans().At(0).Spans().AppendEmpty())
	}
	return rest, inits
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !contains(s, p) {
			return false
		}
	}
	return true
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestAgentsConfigValidate(t *testing.T) {
	for field, mutate := range map[string]func(c *Config){
		"agents.dedupe_max_calls": func(c *Config) { c.Agents.DedupeMaxCalls = 0 },
		"agents.session_wait":     func(c *Config) { c.Agents.SessionWait = -time.Second },
		"agents.max_waiting":      func(c *Config) { c.Agents.MaxWaiting = -1 },
	} {
		cfg := createDefaultConfig()
		mutate(cfg)
		assert.ErrorContains(t, cfg.Validate(), field)
	}
	cfg := createDefaultConfig()
	cfg.EventModel.AgentSessions.MaxSessions = -3
	assert.ErrorContains(t, cfg.Validate(), "event_model.agent_sessions.max_sessions")
}
