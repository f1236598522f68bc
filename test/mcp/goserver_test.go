package mcp

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/sandboxevent"
	"github.com/sandwatch/sandwatch/test/testutil"
)

// buildGoServer builds the Go MCP server (goserver/, a module of its own
// on the official MCP Go SDK v1.8.0) into dir.
func buildGoServer(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "goserver")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Dir = filepath.Join(testutil.RepoRoot(t), "test", "mcp", "goserver")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build goserver: %s", out)
	return bin
}

// Both sides traced: the Node client by Traceloop (with the trace context
// injected into params._meta), the Go server by our middleware emitting
// the MCP conventions' server spans. Each call counts once, the server's
// record folded into the client's through the _meta parent link, and the
// archive keeps both, in one trace.
func TestGoMCPServerBothSides(t *testing.T) {
	e := Start(t)
	bin := buildGoServer(t, e.Dir)
	root := filepath.Join(e.Dir, "notes")
	require.NoError(t, os.MkdirAll(root, 0o700))
	note := filepath.Join(root, "todo.md")
	require.NoError(t, os.WriteFile(note, []byte("- ship it\n"), 0o600))

	results, sent := e.Run(Script{
		Meta: true,
		Servers: map[string]Server{"go": {Command: bin, Args: []string{root}, Env: map[string]string{
			"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": e.OTLPHTTP, "NOTES_CAPTURE_CONTENT": "true"}}},
		Calls: []Call{
			{Server: "go", Tool: "read_note", Arguments: map[string]any{"path": note}},
			{Server: "go", Tool: "read_note", Arguments: map[string]any{"path": note}},
			{Server: "go", Tool: "read_note", Arguments: map[string]any{"path": "/etc/passwd"}},
			{Server: "go", Resource: "file://" + note},
		},
	})
	require.Len(t, results, 4)
	assert.Contains(t, results[0].Text, "ship it")
	assert.True(t, results[2].IsError)
	assert.Contains(t, results[3].Text, "ship it")

	const server = "sandwatch-notes" // serverInfo.name on the client side, service.name on the server side
	testutil.Eventually(t, 30*time.Second, func() bool {
		v, _ := testutil.ScrapeSum(e.TelemetryURL, "otelcol_sandbox_metrics_agent_repeats")
		return v >= 4 && e.Sum("sandbox_operations_total", `tool="`) >= 4
	}, "the server's four records folded into the client's")
	time.Sleep(time.Second)
	assert.Equal(t, 3.0, e.Sum("sandbox_operations_total", `extension="`+server+`"`, `tool="read_note"`), "three calls, each counted once")
	assert.Equal(t, 1.0, e.Sum("sandbox_operations_total", `extension="`+server+`"`, `tool="read_note"`, `outcome="denied"`))
	assert.Equal(t, 1.0, e.Sum("sandbox_operations_total", `extension="`+server+`"`, `tool="resources/read"`, `kind="fs"`))
	repeats, _ := testutil.ScrapeSum(e.TelemetryURL, "otelcol_sandbox_metrics_agent_repeats")
	assert.Equal(t, 4.0, repeats)

	// The archive: the client's trace also holds the server's spans (one
	// trace through _meta), each server span classified from its own
	// keys; the file:// read has its path on both sides.
	c := sandboxevent.MustNew(sandboxevent.Config{})
	var serverSpans, resourcePaths int
	for id, n := range TraceIDs(sent) {
		var td ptrace.Traces
		testutil.Eventually(t, 40*time.Second, func() bool {
			got, err := e.Archived(id)
			if err == nil && got.SpanCount() > n {
				td = got
				return true
			}
			return false
		}, "trace %s archived with the server's spans (client sent %d)", id, n)
		c.EachSpan(td, func(_ ptrace.Span, ev *sandboxevent.Event, _ ptrace.ResourceSpans, _ ptrace.ScopeSpans) {
			if ev.Agent.Side == sandboxevent.SideMCPServer {
				serverSpans++
				assert.Equal(t, server, ev.ExtensionID)
				assert.Equal(t, sandboxevent.EmitterMCP, ev.Agent.Emitter)
			}
			if ev.BlockType == sandboxevent.BlockTypeResource {
				assert.Equal(t, note, ev.Target)
				resourcePaths++
			}
		})
	}
	assert.GreaterOrEqual(t, serverSpans, 4, "tools/call x3 and resources/read, plus initialize and listings")
	assert.Equal(t, 2, resourcePaths, "client span and server span")
}
