package hostkit

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sandwatch/sandwatch/internal/sandboxevent"
	"github.com/sandwatch/sandwatch/test/testutil"
)

// goBuild builds pkg (a path inside the sdk/go module) into dir with env
// added (GOOS=wasip1 GOARCH=wasm for the guest).
func goBuild(t *testing.T, dir, out, pkg string, env ...string) string {
	t.Helper()
	dst := filepath.Join(dir, out)
	cmd := exec.Command("go", "build", "-o", dst, pkg)
	cmd.Dir = filepath.Join(testutil.RepoRoot(t), "sdk", "go")
	cmd.Env = append(os.Environ(), env...)
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build %s: %s", pkg, b)
	return dst
}

// A wasm guest compiled here with GOOS=wasip1 GOARCH=wasm calls http_call
// once for an allowed host and once for a denied one, against a local
// server, inside sdk/go/examples/pluginhost (wazerohost on wazero
// v1.12.0). The spans reach bin/sandwatch on config/default.yaml, the
// event model's wazero profile classifies them, and the denied call
// raises a capability_denied anomaly. A panicking plugin is recorded and
// the host survives it.
func TestWazeroKitHTTPCall(t *testing.T) {
	dir := t.TempDir()
	guest := goBuild(t, dir, "guest.wasm", "./wazerohost/testdata/guest", "GOOS=wasip1", "GOARCH=wasm")
	pluginhost := goBuild(t, dir, "pluginhost", "./examples/pluginhost")
	c := startDefault(t)

	var secret atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/secret" {
			secret.Add(1)
		}
		fmt.Fprint(w, "healthy")
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	allowedURL := srv.URL + "/health"
	deniedURL := "http://localhost:" + port + "/secret" // the same server, under a name the allowlist lacks

	run := runPlugin(t, pluginhost, "--endpoint", "http://"+c.otlpHTTP, "--plugin-id", "ping-checker",
		"--plugin-version", "0.3.1", "--allow", "127.0.0.1", "--wasm", guest, "--",
		"fetch", allowedURL, deniedURL)
	assert.Equal(t, "ok", run.Outcome)
	assert.Equal(t, "200 7 healthy\n-1 0 \n", run.Stdout, "the guest got the allowed response and a denial")
	assert.Zero(t, secret.Load(), "the denied call never left the host")

	td := c.waitArchived(t, "ping-checker", run.TraceID, 3)
	spans := classify(td, sandboxevent.ProfileWazero)
	require.Len(t, spans, 3)
	var calls []sandboxevent.Event
	for _, s := range spans {
		assert.Equal(t, "ping-checker", s.ev.ExtensionID, "plugin.id is the extension (%s)", s.span.Name())
		switch s.span.Name() {
		case "plugin.execute":
			assert.True(t, s.span.ParentSpanID().IsEmpty())
			assert.Equal(t, sandboxevent.OutcomeOK, s.ev.Outcome)
		case "http_call":
			assert.False(t, s.span.ParentSpanID().IsEmpty())
			calls = append(calls, s.ev)
		default:
			t.Errorf("unexpected span %s", s.span.Name())
		}
	}
	require.Len(t, calls, 2)
	byTarget := map[string]sandboxevent.Event{}
	for _, ev := range calls {
		assert.Equal(t, sandboxevent.KindHTTP, ev.Kind)
		assert.Equal(t, "GET", ev.Operation)
		byTarget[ev.Target] = ev
	}
	allowed, denied := byTarget["127.0.0.1"], byTarget["localhost"]
	assert.Equal(t, sandboxevent.OutcomeOK, allowed.Outcome)
	assert.Equal(t, "allowed", allowed.Decision)
	assert.EqualValues(t, 200, allowed.StatusCode)
	assert.Equal(t, allowedURL, allowed.URL)
	assert.Equal(t, sandboxevent.OutcomeDenied, denied.Outcome)
	assert.Equal(t, "denied", denied.Decision)
	assert.Equal(t, deniedURL, denied.URL)

	// The denial is an anomaly (a log record on the default config's
	// debug/anomalies exporter, and the anomaly counter) and a decision.
	require.True(t, c.WaitOutput("Trace ID: "+run.TraceID, 30*time.Second), "no anomaly on the invocation's trace")
	block := anomalyBlock(c.Output(), run.TraceID)
	assert.Contains(t, block, "anomaly.type: Str(capability_denied)")
	assert.Contains(t, block, "sandbox.extension.id: Str(ping-checker)")
	assert.Contains(t, block, "localhost")

	// A plugin that panics: the host reports it and exits cleanly, and
	// the run's span carries the plugin id and the panic.
	crash := runPlugin(t, pluginhost, "--endpoint", "http://"+c.otlpHTTP, "--plugin-id", "crasher",
		"--wasm", guest, "--", "panic")
	assert.Equal(t, "panic", crash.Outcome)
	assert.Contains(t, crash.Error, "panic: plugin bug")
	crashed := classify(c.waitArchived(t, "crasher", crash.TraceID, 1), sandboxevent.ProfileWazero)
	require.Len(t, crashed, 1)
	assert.Equal(t, "plugin.execute", crashed[0].span.Name())
	assert.Equal(t, "crasher", crashed[0].ev.ExtensionID)
	assert.Equal(t, sandboxevent.OutcomeError, crashed[0].ev.Outcome)
	assert.Equal(t, "panic", crashed[0].ev.ErrorCode)

	c.waitMetrics(t, map[string]float64{
		`sandbox_invocations_total{extension="crasher",outcome="error"}`:                  1,
		`sandbox_anomalies_total{extension="ping-checker",type="capability_denied"}`:      1,
		`sandbox_operations_total{extension="ping-checker",kind="http",outcome="ok"}`:     1,
		`sandbox_operations_total{extension="ping-checker",kind="http",outcome="denied"}`: 1,
		`sandbox_capability_decisions_total{extension="ping-checker",decision="denied"}`:  1,
		`sandbox_capability_decisions_total{extension="ping-checker",decision="allowed"}`: 1,
		`sandbox_invocations_total{extension="ping-checker",outcome="ok"}`:                1,
	})
}

// pluginRun is the JSON line examples/pluginhost prints.
type pluginRun struct {
	TraceID string `json:"trace_id"`
	Outcome string `json:"outcome"`
	Stdout  string `json:"stdout"`
	Error   string `json:"error"`
}

// runPlugin runs pluginhost with args; the host itself must exit 0
// whatever its plugin did.
func runPlugin(t *testing.T, pluginhost string, args ...string) pluginRun {
	t.Helper()
	out, err := exec.Command(pluginhost, args...).Output()
	require.NoError(t, err, "pluginhost: %s", out)
	var r pluginRun
	require.NoError(t, json.Unmarshal(out, &r), "%s", out)
	return r
}

// anomalyBlock returns the debug exporter's printout of the log record on
// traceID: the lines from its "LogRecord #" header to the next one.
func anomalyBlock(output, traceID string) string {
	i := strings.Index(output, "Trace ID: "+traceID)
	if i < 0 {
		return ""
	}
	start := strings.LastIndex(output[:i], "LogRecord #")
	if start < 0 {
		start = 0
	}
	end := strings.Index(output[i:], "LogRecord #")
	if end < 0 {
		return output[start:]
	}
	return output[start : i+end]
}
