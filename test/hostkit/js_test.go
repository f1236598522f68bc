package hostkit

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sandwatch/sandwatch/internal/sandboxevent"
	"github.com/sandwatch/sandwatch/test/testutil"
)

// jsHostCommand runs testdata/jshost.js with the machine's node. Node 20
// needs --no-node-snapshot for isolated-vm. As root, the process runs
// without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH, so a mode-0000 file is
// refused with a real EACCES, as it is for any other user.
func jsHostCommand(t *testing.T) *exec.Cmd {
	t.Helper()
	root := testutil.RepoRoot(t)
	if _, err := os.Stat(filepath.Join(root, "sdk", "js", "node_modules", "isolated-vm", "out", "isolated_vm.node")); err != nil {
		t.Fatalf("the JS kit's dependencies are not installed (run `make deps`): %v", err)
	}
	args := []string{"node", "--no-node-snapshot", filepath.Join(root, "test", "hostkit", "testdata", "jshost.js")}
	if os.Geteuid() == 0 {
		args = append([]string{"setpriv", "--bounding-set", "-dac_override,-dac_read_search"}, args...)
	}
	return exec.Command(args[0], args[1:]...)
}

// A real isolated-vm isolate runs a small extension that reads a file, is
// refused a read with EACCES, calls an HTTP server through the host proxy
// and queries a stub database. The kit exports to bin/sandwatch on
// config/default.yaml; the archive holds one trace whose four operation
// spans are children of the invocation through the token, the event model
// classifies each as the kit meant, and sandbox_operations_total counts
// each kind.
func TestJSKitIsolatedVM(t *testing.T) {
	c := startDefault(t)

	var mu sync.Mutex
	var requests []string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests = append(requests, r.URL.RequestURI())
		mu.Unlock()
		fmt.Fprint(w, `{"temp":12}`)
	}))
	defer api.Close()

	ws := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(ws, "notes.json"), []byte(`{"city":"Paris"}`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(ws, "secret.txt"), []byte("hunter2"), 0o000))

	cmd := jsHostCommand(t)
	cmd.Env = append(os.Environ(),
		"HOSTKIT_OTLP=http://"+c.otlpHTTP+"/v1/traces",
		"HOSTKIT_API="+api.URL,
		"HOSTKIT_WORKSPACE="+ws)
	out, err := cmd.Output()
	var stderr []byte
	if ee, ok := err.(*exec.ExitError); ok {
		stderr = ee.Stderr
	}
	require.NoError(t, err, "jshost: %s\n%s", out, stderr)
	var got struct {
		TraceID string `json:"trace_id"`
		Result  struct {
			City     string           `json:"city"`
			Refused  string           `json:"refused"`
			Status   int              `json:"status"`
			Forecast string           `json:"forecast"`
			Rows     []map[string]any `json:"rows"`
		} `json:"result"`
	}
	require.NoError(t, json.Unmarshal(out, &got), "%s", out)
	assert.Equal(t, "Paris", got.Result.City)
	assert.Equal(t, "EACCES", got.Result.Refused, "the OS refused the read")
	assert.Equal(t, 200, got.Result.Status)
	assert.JSONEq(t, `{"temp":12}`, got.Result.Forecast)
	assert.Equal(t, []map[string]any{{"city": "Paris", "temp": float64(12)}}, got.Result.Rows)
	mu.Lock()
	assert.Equal(t, []string{"/v1/forecast?city=Paris"}, requests, "one call reached the server through the host proxy")
	mu.Unlock()

	// The archive: one trace of the extension, five spans, one tree.
	td := c.waitArchived(t, "weather-sync", got.TraceID, 5)
	assert.Len(t, c.archivedTraces(t, "weather-sync"), 1, "one trace in the archive")
	spans := classify(td, sandboxevent.ProfileGoose, sandboxevent.ProfileSemconv)
	require.Len(t, spans, 5)
	var roots []classified
	for _, s := range spans {
		if s.span.ParentSpanID().IsEmpty() {
			roots = append(roots, s)
		}
	}
	require.Len(t, roots, 1, "one root span")
	root := roots[0]
	require.Equal(t, "extension.invoke", root.span.Name())
	assert.Equal(t, "weather-sync", root.ev.ExtensionID)
	type op struct {
		kind             sandboxevent.Kind
		outcome          sandboxevent.Outcome
		target, errClass string
	}
	var ops []op
	for _, s := range spans {
		if s.span.SpanID() == root.span.SpanID() { // Event holds a slice (agent fields): compare by span
			continue
		}
		assert.Equal(t, root.span.SpanID(), s.span.ParentSpanID(), "%s is a child of the invocation (through the token)", s.span.Name())
		assert.Equal(t, got.TraceID, s.span.TraceID().String())
		assert.Equal(t, "weather-sync", s.ev.ExtensionID, s.span.Name())
		ops = append(ops, op{s.ev.Kind, s.ev.Outcome, s.ev.Target, s.ev.ErrorClass()})
	}
	assert.ElementsMatch(t, []op{
		{sandboxevent.KindFS, sandboxevent.OutcomeOK, filepath.Join(ws, "notes.json"), ""},
		{sandboxevent.KindFS, sandboxevent.OutcomeError, filepath.Join(ws, "secret.txt"), "EACCES"},
		{sandboxevent.KindHTTP, sandboxevent.OutcomeOK, "127.0.0.1", ""},
		{sandboxevent.KindDB, sandboxevent.OutcomeOK, "forecasts", ""},
	}, ops)
	for _, s := range spans {
		if s.ev.Outcome == sandboxevent.OutcomeError {
			assert.Equal(t, "EACCES", s.ev.ErrorCode, "the refused read carries its code")
			assert.Equal(t, "Error", s.span.Status().Code().String())
		}
	}

	// The hot path: one operation of each kind, the refused read an EACCES error.
	c.waitMetrics(t, map[string]float64{
		`sandbox_operations_total{extension="weather-sync",kind="fs",outcome="ok"}`:     1,
		`sandbox_operations_total{extension="weather-sync",kind="fs",outcome="error"}`:  1,
		`sandbox_operations_total{extension="weather-sync",kind="http",outcome="ok"}`:   1,
		`sandbox_operations_total{extension="weather-sync",kind="db",outcome="ok"}`:     1,
		`sandbox_operations_total{extension="weather-sync"}`:                            4,
		`sandbox_errors_total{extension="weather-sync",kind="fs",error_class="EACCES"}`: 1,
		`sandbox_invocations_total{extension="weather-sync",outcome="ok"}`:              1,
	})
}
