package mcp

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/sandboxevent"
	"github.com/sandwatch/sandwatch/test/testutil"
)

// The servers name themselves in initialize (serverInfo.name).
const (
	fsServer  = "secure-filesystem-server"
	allServer = "mcp-servers/everything"
)

// Real servers, real client, real instrumentation, the default config:
// every call counted once per server and tool, a read outside the allowed
// roots counted as a denial, a file:// resource read classified with its
// path, every span archived, and a secret in a tool argument gone from
// the archive while the argument stays valid JSON.
func TestRealMCPServersEndToEnd(t *testing.T) {
	e := Start(t)
	ws := filepath.Join(e.Dir, "ws")
	require.NoError(t, os.MkdirAll(filepath.Join(ws, "docs"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(ws, "docs", "notes.md"), []byte("quarterly notes\n"), 0o600))
	awsKey := "AKIA" + "Q7ZLMN2XJ4RT6VWY"
	ghToken := "ghp_" + strings.Repeat("aB3d", 9)

	fileURI := "file://" + filepath.Join(ws, "docs", "notes.md")
	script := Script{
		Service: "research-agent",
		Servers: map[string]Server{
			"fs":  {Package: "filesystem", Args: []string{ws}},
			"all": {Package: "everything"},
		},
		Calls: []Call{
			{Server: "fs", List: "tools"},
			{Server: "fs", Tool: "read_text_file", Arguments: map[string]any{"path": filepath.Join(ws, "docs", "notes.md")}},
			{Server: "fs", Tool: "read_text_file", Arguments: map[string]any{"path": filepath.Join(ws, "docs", "notes.md")}},
			{Server: "fs", Tool: "read_text_file", Arguments: map[string]any{"path": "/etc/passwd"}},
			{Server: "fs", Tool: "list_directory", Arguments: map[string]any{"path": ws}},
			{Server: "fs", Tool: "write_file", Arguments: map[string]any{"path": filepath.Join(ws, "deploy.env"),
				"content": "AWS_ACCESS_KEY_ID=" + awsKey + "\nGITHUB_TOKEN=" + ghToken + "\n"}},
			{Server: "all", Tool: "echo", Arguments: map[string]any{"message": "hello"}},
			{Server: "all", Tool: "echo", Arguments: map[string]any{"message": "again"}},
			{Server: "all", Tool: "get-env"},
			{Server: "all", Resource: fileURI},
			// A fetch by the server to a closed loopback port: an egress attempt.
			{Server: "all", Tool: "gzip-file-as-resource", Arguments: map[string]any{"name": "up.gz", "data": "http://127.0.0.1:9/upload"}},
			// A second session to the filesystem server.
			{Server: "fs", Session: 1, Tool: "read_text_file", Arguments: map[string]any{"path": filepath.Join(ws, "deploy.env")}},
		},
	}
	results, sent := e.Run(script)
	require.Len(t, results, len(script.Calls))
	assert.True(t, results[3].IsError, "the real server refuses /etc/passwd")
	assert.Contains(t, results[3].Text, "Access denied - path outside allowed directories")
	assert.False(t, results[5].IsError, results[5].Text)
	assert.Contains(t, results[11].Text, awsKey, "the second session read what the first wrote")
	assert.True(t, results[10].IsError, "nothing listens on port 9")

	// Calls per server and tool, as made: listings and initialize are not calls.
	want := map[string]map[string]float64{
		fsServer:  {"read_text_file": 4, "list_directory": 1, "write_file": 1},
		allServer: {"echo": 2, "get-env": 1, "resources/read": 1, "gzip-file-as-resource": 1},
	}
	testutil.Eventually(t, 30*time.Second, func() bool {
		return e.Sum("sandbox_operations_total", `tool="`) == 11
	}, "sandbox_operations_total with a tool label: %v, want 11", e.Sum("sandbox_operations_total", `tool="`))
	time.Sleep(time.Second) // a second count of any call would show now
	for server, tools := range want {
		for tool, n := range tools {
			assert.Equal(t, n, e.Sum("sandbox_operations_total", `extension="`+server+`"`, `tool="`+tool+`"`), "%s %s", server, tool)
		}
	}
	assert.Equal(t, 1.0, e.Sum("sandbox_operations_total", `extension="`+fsServer+`"`, `tool="read_text_file"`, `outcome="denied"`), "the read outside the allowed roots is a denial")
	assert.Equal(t, 1.0, e.Sum("sandbox_operations_total", `extension="`+allServer+`"`, `tool="resources/read"`, `kind="fs"`), "the file:// read is a file operation")
	assert.Equal(t, 3.0, e.Sum("sandbox_invocations_total", `extension="`), "one invocation per client session")
	assert.Equal(t, 1.0, e.Sum("sandbox_egress_operations_total", `extension="`+allServer+`"`), "the fetch tool's attempt is egress")
	checkDashboardMetrics(t, e)

	// The archive holds every span the harness exported.
	sentByTrace := TraceIDs(sent)
	require.Len(t, sentByTrace, 3, "one trace per client session")
	archived := map[string]ptrace.Traces{}
	testutil.Eventually(t, 40*time.Second, func() bool {
		for id, n := range sentByTrace {
			if _, ok := archived[id]; ok {
				continue
			}
			if td, err := e.Archived(id); err == nil && td.SpanCount() == n {
				archived[id] = td
			}
		}
		return len(archived) == len(sentByTrace)
	}, "archived %d of %d traces", len(archived), len(sentByTrace))

	// In the archive: the secret is gone, the arguments are valid JSON and
	// keep the path; the file:// read classifies with its path.
	c := sandboxevent.MustNew(sandboxevent.Config{})
	var sawWrite, sawResource bool
	for _, td := range archived {
		c.EachSpan(td, func(span ptrace.Span, ev *sandboxevent.Event, _ ptrace.ResourceSpans, _ ptrace.ScopeSpans) {
			for _, key := range []string{"traceloop.entity.input", "traceloop.entity.output"} {
				v, ok := span.Attributes().Get(key)
				if !ok {
					continue
				}
				assert.NotContains(t, v.Str(), awsKey, "%s of %s", key, span.Name())
				assert.NotContains(t, v.Str(), ghToken, "%s of %s", key, span.Name())
				assert.True(t, json.Valid([]byte(v.Str())), "%s of %s is not valid JSON: %s", key, span.Name(), v.Str())
			}
			switch {
			case span.Name() == "write_file.tool":
				sawWrite = true
				var in struct {
					Arguments struct{ Path, Content string }
				}
				v, _ := span.Attributes().Get("traceloop.entity.input")
				require.NoError(t, json.Unmarshal([]byte(v.Str()), &in))
				assert.Equal(t, filepath.Join(ws, "deploy.env"), in.Arguments.Path)
				assert.Contains(t, in.Arguments.Content, "[REDACTED:")
				assert.Equal(t, fsServer, ev.ExtensionID)
			case span.Name() == "resources/read.mcp":
				sawResource = true
				assert.Equal(t, filepath.Join(ws, "docs", "notes.md"), ev.Target)
				assert.Equal(t, sandboxevent.TargetPath, ev.TargetType)
				assert.Equal(t, allServer, ev.ExtensionID)
			}
		})
	}
	assert.True(t, sawWrite && sawResource, "write_file and resources/read spans archived")
	unattributed, _ := testutil.ScrapeSum(e.TelemetryURL, "otelcol_sandbox_metrics_unattributed")
	assert.Zero(t, unattributed, "no agent span left unattributed")

	// The collector's fan-out hands forensic, sandbox_metrics and baseline
	// the very batch (and context) classify_once scoped: the first of them
	// classified it, the two others read that result.
	classified, err := testutil.ScrapeSum(e.TelemetryURL, "otelcol_processor_classify_once_records_classified", `signal="traces"`)
	require.NoError(t, err)
	reused, _ := testutil.ScrapeSum(e.TelemetryURL, "otelcol_processor_classify_once_records_reused", `signal="traces"`)
	assert.Positive(t, classified, "spans classified into the batch scope")
	assert.Equal(t, 2*classified, reused, "the other two consumers read every span the first classified")
}

// With Traceloop's content capture off, the spans say which tool ran and
// how it ended, not which server: the initialize output that names it is
// content. The calls are then counted as unattributed (never under a
// wrong server), and the denial is still read from the status text.
func TestRealMCPServersWithoutContent(t *testing.T) {
	e := Start(t)
	ws := filepath.Join(e.Dir, "ws")
	require.NoError(t, os.MkdirAll(ws, 0o700))
	off := false
	results, sent := e.Run(Script{
		Content: &off,
		Servers: map[string]Server{"fs": {Package: "filesystem", Args: []string{ws}}},
		Calls: []Call{
			{Server: "fs", Tool: "list_directory", Arguments: map[string]any{"path": ws}},
			{Server: "fs", Tool: "read_text_file", Arguments: map[string]any{"path": "/etc/passwd"}},
		},
	})
	require.True(t, results[1].IsError)
	rss := sent.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		spans := rss.At(i).ScopeSpans().At(0).Spans()
		for k := 0; k < spans.Len(); k++ {
			_, hasIn := spans.At(k).Attributes().Get("traceloop.entity.input")
			_, hasOut := spans.At(k).Attributes().Get("traceloop.entity.output")
			assert.False(t, hasIn || hasOut, "%s carries content", spans.At(k).Name())
		}
	}
	testutil.Eventually(t, 30*time.Second, func() bool {
		v, _ := testutil.ScrapeSum(e.TelemetryURL, "otelcol_sandbox_metrics_unattributed")
		return v >= 2
	}, "the two calls counted as unattributed")
	assert.Zero(t, e.Sum("sandbox_operations_total", `tool="`), "no call under a guessed server")
}
