package distribution

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sandwatch/sandwatch/test/testutil"
)

func simulate(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := testutil.RunCtl(t, ctx, append([]string{"simulate", "--json"}, args...)...)
	require.NoError(t, err, out)
	return out
}

// A typical stock-collector config (old component names, file_storage
// queue) runs unchanged and delivers to its backend.
func TestStockConfigRunsUnchanged(t *testing.T) {
	be := startBackend(t)
	health := testutil.FreePort(t)
	grpcPort := testutil.FreePort(t)
	c := testutil.StartCollectorFile(t, t.TempDir(), filepath.Join(testutil.RepoRoot(t), "testdata", "stock-config.yaml"),
		fmt.Sprintf("HEALTH_ENDPOINT=127.0.0.1:%d", health),
		fmt.Sprintf("OTLP_GRPC_ENDPOINT=127.0.0.1:%d", grpcPort),
		fmt.Sprintf("OTLP_HTTP_ENDPOINT=127.0.0.1:%d", testutil.FreePort(t)),
		"BACKEND_ENDPOINT="+be.addr,
		"STORAGE_DIR="+t.TempDir())
	c.WaitHealthy(fmt.Sprintf("http://127.0.0.1:%d/", health), 60*time.Second)
	simulate(t, "--endpoint", fmt.Sprintf("127.0.0.1:%d", grpcPort), "--duration", "2s", "--rate", "20", "--extensions", "8")
	testutil.Eventually(t, 20*time.Second, func() bool { return be.spans.Load() > 100 && be.logs.Load() > 0 },
		"backend got %d spans, %d logs", be.spans.Load(), be.logs.Load())
}

// OTLP over a unix domain socket: delivered, and the socket is 0600.
func TestUnixSocketReceiver(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "otlp.sock")
	health := testutil.FreePort(t)
	telemetry := testutil.FreePort(t)
	c := testutil.StartCollectorFile(t, dir, filepath.Join(testutil.RepoRoot(t), "config", "default.yaml"),
		testutil.DefaultEnv(t, dir, health, telemetry, "SANDWATCH_OTLP_SOCKET="+sock)...)
	c.WaitHealthy(fmt.Sprintf("http://127.0.0.1:%d/", health), 60*time.Second)
	fi, err := os.Stat(sock)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "socket permissions")
	assert.NotZero(t, fi.Mode()&os.ModeSocket)

	out := simulate(t, "--protocol", "unix", "--endpoint", sock, "--duration", "2s", "--rate", "10", "--extensions", "5")
	assert.Contains(t, out, `"failed_requests":0`)
	testutil.Eventually(t, 20*time.Second, func() bool { return accepted(t, telemetry, "otlp/unix") > 50 },
		"spans accepted on the socket: %v", accepted(t, telemetry, "otlp/unix"))

	// A SIGKILL leaves the socket file behind; the restart clears it.
	c.Kill()
	_, err = os.Stat(sock)
	require.NoError(t, err, "stale socket left by SIGKILL")
	c2 := testutil.StartCollectorFile(t, dir, c.Config, testutil.DefaultEnv(t, dir, health, telemetry, "SANDWATCH_OTLP_SOCKET="+sock)...)
	c2.WaitHealthy(fmt.Sprintf("http://127.0.0.1:%d/", health), 60*time.Second)
	simulate(t, "--protocol", "unix", "--endpoint", sock, "--duration", "1s", "--rate", "10", "--extensions", "5")
	testutil.Eventually(t, 20*time.Second, func() bool { return accepted(t, telemetry, "otlp/unix") > 10 }, "after restart")
}

// The air-gapped config opens no TCP listener at all, takes OTLP on its
// socket, archives to local disk and reports anomalies on stdout.
func TestAirgappedHasNoNetworkListener(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "run", "otlp.sock")
	data := filepath.Join(dir, "data")
	auditDir := filepath.Join(dir, "audit")
	require.NoError(t, os.MkdirAll(auditDir, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(auditDir, "sandbox.jsonl"),
		[]byte(`{"script":"airgapped-ext","capability":"ffi.open","decision":"denied","library":"libairgapped-probe.so"}`+"\n"), 0o600))
	c := testutil.StartCollectorFile(t, dir, filepath.Join(testutil.RepoRoot(t), "config", "airgapped.yaml"),
		"SANDWATCH_OTLP_SOCKET="+sock, "SANDWATCH_DATA_DIR="+data, "SANDWATCH_AUDIT_LOG_GLOB="+filepath.Join(auditDir, "*.jsonl"))
	require.True(t, c.WaitOutput("Everything is ready", 60*time.Second), "collector ready:\n%s", c.Output())
	simulate(t, "--protocol", "unix", "--endpoint", sock, "--duration", "1s", "--rate", "10", "--extensions", "3",
		"--scenario", "capability-denied")
	testutil.Eventually(t, 20*time.Second, func() bool { return strings.Contains(c.Output(), "capability_denied") },
		"anomaly event on stdout")
	testutil.Eventually(t, 20*time.Second, func() bool { return strings.Contains(c.Output(), "libairgapped-probe.so") },
		"anomaly event for the audit-log file's denied FFI.open")
	testutil.Eventually(t, 30*time.Second, func() bool {
		entries, _ := os.ReadDir(filepath.Join(data, "forensic", "blocks"))
		return len(entries) > 0
	}, "spans archived under %s", data)
	listeners := tcpListeners(t, c.Pid())
	assert.Empty(t, listeners, "air-gapped collector listens on TCP")
	fi, err := os.Stat(sock)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
}

// Bad config fails at start-up with a message naming the field.
func TestBadConfigNamesTheField(t *testing.T) {
	for name, tc := range map[string]struct{ config, want string }{
		"unknown field": {`
receivers:
  otlp:
    protocols:
      grpc:
        endpointt: 127.0.0.1:0
exporters:
  debug:
service:
  pipelines:
    traces: {receivers: [otlp], exporters: [debug]}
`, "endpointt"},
		"socket_guard mode": {`
extensions:
  socket_guard:
    mode: "rwx"
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
exporters:
  debug:
service:
  extensions: [socket_guard]
  pipelines:
    traces: {receivers: [otlp], exporters: [debug]}
`, `mode: "rwx" is not an octal permission`},
		"unknown component": {`
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
exporters:
  nosuch:
service:
  pipelines:
    traces: {receivers: [otlp], exporters: [nosuch]}
`, "nosuch"},
	} {
		t.Run(name, func(t *testing.T) {
			c := testutil.StartCollector(t, tc.config)
			exited, err := c.Wait(30 * time.Second)
			require.True(t, exited, "collector should refuse the config")
			assert.Error(t, err)
			assert.Contains(t, c.Output(), tc.want)
		})
	}
}

// `make run`'s config: starts, and simulate delivers to it over gRPC and HTTP.
func TestDefaultConfigWithSimulate(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "data"), 0o755))
	health, telemetry := testutil.FreePort(t), testutil.FreePort(t)
	grpcPort, httpPort := testutil.FreePort(t), testutil.FreePort(t)
	c := testutil.StartCollectorFile(t, dir, filepath.Join(testutil.RepoRoot(t), "config", "default.yaml"),
		testutil.DefaultEnv(t, dir, health, telemetry,
			fmt.Sprintf("SANDWATCH_OTLP_GRPC_ENDPOINT=127.0.0.1:%d", grpcPort),
			fmt.Sprintf("SANDWATCH_OTLP_HTTP_ENDPOINT=127.0.0.1:%d", httpPort))...)
	c.WaitHealthy(fmt.Sprintf("http://127.0.0.1:%d/", health), 60*time.Second)
	simulate(t, "--endpoint", fmt.Sprintf("127.0.0.1:%d", grpcPort), "--duration", "2s", "--scenario", "all")
	simulate(t, "--protocol", "http", "--endpoint", fmt.Sprintf("http://127.0.0.1:%d", httpPort), "--duration", "1s")
	testutil.Eventually(t, 20*time.Second, func() bool { return accepted(t, telemetry, "otlp") > 200 },
		"spans accepted: %v", accepted(t, telemetry, "otlp"))
}

// accepted is the spans a receiver accepted, from the collector's own
// telemetry.
func accepted(t *testing.T, telemetryPort int, receiver string) float64 {
	v, err := testutil.ScrapeSum(fmt.Sprintf("http://127.0.0.1:%d/metrics", telemetryPort),
		"otelcol_receiver_accepted_spans", fmt.Sprintf(`receiver="%s"`, receiver))
	if err != nil {
		t.Logf("scrape: %v", err)
	}
	return v
}
