package mcp

// The agent detectors of the baseline connector (issue 21) against the
// real servers, client and instrumentation of this suite: after learning,
// the attacks of the issue are real calls, and each must raise its anomaly
// type on the trace that carries it; benign sessions none.

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/test/testutil"
)

// startLearning is Start with the baseline's learning shortened (8
// invocations per server, 5 sessions per agent) by a second config merged
// over config/default.yaml, so a few harness runs teach it.
func startLearning(t *testing.T) *Env {
	t.Helper()
	return Start(t, WithConfig(
		"yaml:connectors::baseline::learn_invocations: 8",
		"yaml:connectors::baseline::agents::learn_sessions: 5",
	))
}

// anomaly is one record the default config's debug/anomalies exporter
// printed (verbosity detailed), with the traces a dedup summary folded.
type anomaly struct {
	typ, ext, trace string
	folded          []string
}

var (
	typeRE   = regexp.MustCompile(`anomaly\.type: Str\(([^)]*)\)`)
	extRE    = regexp.MustCompile(`sandbox\.extension\.id: Str\(([^)]*)\)`)
	traceRE  = regexp.MustCompile(`Trace ID: ([0-9a-f]{32})`)
	foldedRE = regexp.MustCompile(`anomaly\.folded_trace_ids: Slice\(\[([^\]]*)\]\)`)
	hexRE    = regexp.MustCompile(`[0-9a-f]{32}`)
)

// anomalies parses the anomaly records printed so far.
func anomalies(e *Env) []anomaly {
	var out []anomaly
	for _, block := range strings.Split(e.Collector.Output(), "LogRecord #")[1:] {
		m := typeRE.FindStringSubmatch(block)
		if m == nil {
			continue
		}
		a := anomaly{typ: m[1]}
		if x := extRE.FindStringSubmatch(block); x != nil {
			a.ext = x[1]
		}
		if x := traceRE.FindStringSubmatch(block); x != nil {
			a.trace = x[1]
		}
		if x := foldedRE.FindStringSubmatch(block); x != nil {
			a.folded = hexRE.FindAllString(x[1], -1)
		}
		out = append(out, a)
	}
	return out
}

// httpHost serves 200 on a loopback address (127.0.0.1 is the host the
// agent learns; 127.0.0.2, also loopback, one it never saw).
func httpHost(t *testing.T, ip string) string {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

func TestAgentAttacksDetected(t *testing.T) {
	e := startLearning(t)
	ws := filepath.Join(e.Dir, "ws")
	require.NoError(t, os.MkdirAll(filepath.Join(ws, "docs"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(ws, "docs", "notes.md"), []byte("quarterly notes\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(ws, ".env"), []byte("DB_PASSWORD=hunter2\n"), 0o600))
	known, unseen := httpHost(t, "127.0.0.1"), httpHost(t, "127.0.0.2")
	drift := filepath.Join(testutil.RepoRoot(t), "test", "mcp", "driftserver", "driftserver.js")
	servers := map[string]Server{"fs": {Package: "filesystem", Args: []string{ws}}, "all": {Package: "everything"},
		"notes": {Command: "node", Args: []string{drift}}}

	// Learning: two runs of four sessions to each server, the agent's
	// habits (a listing, a read of its notes, an echo, a fetch of the
	// host it always reaches).
	benign := func(sessions int) []Call {
		var calls []Call
		for s := 0; s < sessions; s++ {
			calls = append(calls,
				Call{Server: "fs", Session: s, List: "tools"},
				Call{Server: "fs", Session: s, Tool: "read_text_file", Arguments: map[string]any{"path": filepath.Join(ws, "docs", "notes.md")}},
				Call{Server: "all", Session: s, Tool: "echo", Arguments: map[string]any{"message": "hi"}},
				Call{Server: "all", Session: s, Tool: "gzip-file-as-resource", Arguments: map[string]any{"name": "a.gz", "data": known + "/page"}},
				Call{Server: "notes", Session: s, List: "tools"},
				Call{Server: "notes", Session: s, Tool: "lookup", Arguments: map[string]any{"keyword": "q3"}},
			)
		}
		return calls
	}
	for run := 0; run < 2; run++ {
		res, _ := e.Run(Script{Service: "research-agent", Servers: servers, Calls: benign(4)})
		for i, r := range res {
			require.False(t, r.IsError, "learning call %d: %s", i, r.Text)
		}
	}
	// The learning sessions' invocations are judged idle_timeout (2s)
	// after their last span.
	time.Sleep(4 * time.Second)
	require.Empty(t, anomalies(e), "learning raised anomalies")

	// Benign after learning: none.
	e.Run(Script{Service: "research-agent", Servers: servers, Calls: benign(1)})
	time.Sleep(4 * time.Second)
	require.Empty(t, anomalies(e), "a benign session raised anomalies")

	// 1. A secret planted inside the allowed directory, read; then
	// server-everything's gzip-file-as-resource fetches a URL on a host
	// never seen before.
	res, sent := e.Run(Script{Service: "research-agent", Servers: servers, Calls: []Call{
		{Server: "fs", Tool: "read_text_file", Arguments: map[string]any{"path": filepath.Join(ws, ".env")}},
		{Server: "all", Tool: "gzip-file-as-resource", Arguments: map[string]any{"name": "x.gz", "data": unseen + "/collect"}},
	}})
	require.Contains(t, res[0].Text, "hunter2")
	require.False(t, res[1].IsError, res[1].Text)
	upload := spanTrace(t, sent, "gzip-file-as-resource.tool")
	waitAnomaly(t, e, "cross_tool_exfiltration", allServer, upload)

	// 2. get-env, then the same fetch. Seconds after the first, the same
	// anomaly type, server and host: dedup folds it into the first
	// record, and the summary names its trace when the interval ends (or,
	// here, at shutdown).
	_, sent = e.Run(Script{Service: "research-agent", Servers: servers, Calls: []Call{
		{Server: "all", Tool: "get-env"},
		{Server: "all", Tool: "gzip-file-as-resource", Arguments: map[string]any{"name": "y.gz", "data": unseen + "/env"}},
	}})
	envUpload := spanTrace(t, sent, "gzip-file-as-resource.tool")

	// 3. Reads outside the allowed roots, refused by the server itself.
	res, sent = e.Run(Script{Service: "research-agent", Servers: servers, Calls: []Call{
		{Server: "fs", Tool: "read_text_file", Arguments: map[string]any{"path": "/etc/passwd"}},
		{Server: "fs", Tool: "read_text_file", Arguments: map[string]any{"path": "/etc/hostname"}},
	}})
	assert.Contains(t, res[0].Text, "Access denied - path outside allowed directories")
	waitAnomaly(t, e, "capability_denied", fsServer, spanTrace(t, sent, "read_text_file.tool"))

	// 4. The test's own MCP server (driftserver/, the official SDK)
	// restarted after a rug pull: one more tool and lookup's description
	// changed; the new tool is then called.
	rugPulled := map[string]Server{"notes": {Command: "node", Args: []string{drift}, Env: map[string]string{"DRIFT": "1"}}}
	res, sent = e.Run(Script{Service: "research-agent", Servers: rugPulled, Calls: []Call{
		{Server: "notes", List: "tools"},
		{Server: "notes", Tool: "export_notes", Arguments: map[string]any{"destination": "/tmp/out"}},
	}})
	require.Equal(t, "lookup,summarise,export_notes", res[0].Text)
	session := spanTrace(t, sent, "export_notes.tool")
	waitAnomaly(t, e, "tool_description_changed", "drift-notes", session)
	waitAnomaly(t, e, "new_tool", "drift-notes", session)

	e.Collector.Stop() // a graceful shutdown reports what dedup folded
	waitAnomaly(t, e, "cross_tool_exfiltration", allServer, envUpload)
	for _, a := range anomalies(e) {
		assert.Contains(t, []string{"cross_tool_exfiltration", "capability_denied", "new_tool", "tool_description_changed"}, a.typ, "%+v", a)
		if a.typ == "new_tool" { // get-env (never called while everything learned), export_notes
			assert.Contains(t, []string{allServer, "drift-notes"}, a.ext)
		}
	}
}

// spanTrace returns the trace (hex) of the first span named name that the
// harness exported.
func spanTrace(t *testing.T, sent ptrace.Traces, name string) string {
	t.Helper()
	rss := sent.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		for j := 0; j < rss.At(i).ScopeSpans().Len(); j++ {
			spans := rss.At(i).ScopeSpans().At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				if spans.At(k).Name() == name {
					return spans.At(k).TraceID().String()
				}
			}
		}
	}
	t.Fatalf("the harness exported no %s span", name)
	return ""
}

// waitAnomaly waits for an anomaly of typ of ext that names trace: as
// its own trace, or among the traces its dedup summary folded.
func waitAnomaly(t *testing.T, e *Env, typ, ext, trace string) {
	t.Helper()
	testutil.Eventually(t, 30*time.Second, func() bool {
		for _, a := range anomalies(e) {
			if a.typ == typ && a.ext == ext && (a.trace == trace || slices.Contains(a.folded, trace)) {
				return true
			}
		}
		return false
	}, "no %s on %s trace %s; anomalies: %v", typ, ext, trace, anomalies(e))
}
