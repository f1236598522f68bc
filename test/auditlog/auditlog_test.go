// Package auditlog drives the real collector on config/default.yaml with
// sandbox audit-log files (a JavaScript sandbox's --audit-log, a container
// monitor's --log-file): appended while it runs, rotated, and read across a
// SIGKILL and restart.
package auditlog

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sandwatch/sandwatch/test/testutil"
)

// writer appends audit lines and keeps the truth of what it wrote.
type writer struct {
	t         *testing.T
	path      string
	n         int
	decisions map[string]int // "capability/decision" -> lines
	netLines  int            // container monitor connects
	malformed int
}

func (w *writer) appendLines(lines ...string) {
	w.t.Helper()
	f, err := os.OpenFile(w.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	require.NoError(w.t, err)
	defer f.Close()
	for _, l := range lines {
		_, err := f.WriteString(l + "\n")
		require.NoError(w.t, err)
	}
}

// js appends count capability-audit lines of a JavaScript sandbox,
// permitted and denied, across fetch, VFS and the Function constructor.
func (w *writer) js(count int) {
	var lines []string
	for range count {
		w.n++
		ts := time.Now().UTC().Format(time.RFC3339Nano)
		ext := fmt.Sprintf("audit-ext-%d", w.n%4)
		var rec map[string]any
		switch w.n % 5 {
		case 0, 1:
			rec = map[string]any{"capability": "fetch", "phase": "dispatch", "decision": "permitted", "host": "api.github.com", "url": "https://api.github.com/repos/acme/site", "method": "GET"}
		case 2:
			rec = map[string]any{"capability": "fetch", "phase": "host_check", "decision": "denied", "host": "paste.example.net", "url": "https://paste.example.net/x", "method": "POST"}
		case 3:
			rec = map[string]any{"capability": "vfs", "decision": "permitted", "path": fmt.Sprintf("/workspace/notes-%d.md", w.n)}
		case 4:
			rec = map[string]any{"capability": "function_constructor", "decision": "denied"}
		}
		rec["ts"], rec["script"] = ts, ext
		w.decisions[fmt.Sprint(rec["capability"], "/", metricDecision(rec["decision"].(string)))]++
		raw, err := json.Marshal(rec)
		require.NoError(w.t, err)
		lines = append(lines, string(raw))
	}
	w.appendLines(lines...)
}

func (w *writer) containerMonitor(count int) {
	var lines []string
	for i := range count {
		lines = append(lines, fmt.Sprintf(`{"time":%q,"container":"ext-weather","event":"connect","proto":"tcp","dst":"93.184.216.34:443","dst_host":"api.weather.gov","action":"ALLOWED","bytes_sent":%d}`,
			time.Now().UTC().Format(time.RFC3339Nano), 100+i))
		w.netLines++
		w.decisions["net/allowed"]++ // a firewall decision, labelled by the operation's kind
	}
	w.appendLines(lines...)
}

func (w *writer) ffiDenied() {
	w.appendLines(fmt.Sprintf(`{"ts":%q,"script":"audit-ext-ffi","capability":"ffi.open","decision":"denied","library":"/usr/lib/x86_64-linux-gnu/libc.so.6"}`,
		time.Now().UTC().Format(time.RFC3339Nano)))
	w.decisions["ffi.open/denied"]++
}

func (w *writer) garbage() {
	w.appendLines(`{"ts":"2026-11-29T08:00:00Z","script":"audit-ext-1","capability":"fetch","decisi`) // a torn line
	w.malformed++
}

// metricDecision is the decision label sandbox_metrics gives a line.
func metricDecision(d string) string {
	if d == "denied" {
		return "denied"
	}
	return "allowed"
}

func (w *writer) total() int {
	n := w.malformed
	for _, c := range w.decisions {
		n += c
	}
	return n
}

func (w *writer) decisionLines() int {
	n := 0
	for _, c := range w.decisions {
		n += c
	}
	return n
}

type running struct {
	c                     *testutil.Collector
	promURL, telemetryURL string
}

func start(t *testing.T, dir, glob string) *running {
	health, telemetry, prom := testutil.FreePort(t), testutil.FreePort(t), testutil.FreePort(t)
	c := testutil.StartCollectorFile(t, dir, filepath.Join(testutil.RepoRoot(t), "config", "default.yaml"),
		testutil.DefaultEnv(t, dir, health, telemetry,
			fmt.Sprintf("SANDWATCH_PROMETHEUS_ENDPOINT=127.0.0.1:%d", prom),
			"SANDWATCH_AUDIT_LOG_GLOB="+glob,
			"SANDWATCH_METRICS_FLUSH_INTERVAL=300ms")...)
	c.WaitHealthy(fmt.Sprintf("http://127.0.0.1:%d/", health), 90*time.Second)
	return &running{c: c, promURL: fmt.Sprintf("http://127.0.0.1:%d/metrics", prom), telemetryURL: fmt.Sprintf("http://127.0.0.1:%d/metrics", telemetry)}
}

func (r *running) sum(url, name string, labels ...string) float64 {
	v, _ := testutil.ScrapeSum(url, name, labels...)
	return v
}

func (r *running) decisions() float64 {
	return r.sum(r.promURL, "sandbox_capability_decisions_total")
}

// waitDecisions waits until the decisions counted reach want, and fails
// with the series seen if they do not within 30 s.
func (r *running) waitDecisions(t *testing.T, phase string, want int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if r.decisions() == float64(want) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: decisions counted %v, lines written %d\n%s", phase, r.decisions(), want, r.dump())
}

// Audit lines appended while the collector runs, across a rotation, a
// SIGKILL and a restart: each counted exactly once, a denied FFI.open
// raises capability_denied, a torn line is counted and kept, and the
// archive holds every record.
func TestAuditLogFilesEndToEnd(t *testing.T) {
	dir := t.TempDir()
	logDir := filepath.Join(dir, "audit")
	require.NoError(t, os.MkdirAll(logDir, 0o700))
	w := &writer{t: t, path: filepath.Join(logDir, "sandbox-audit.jsonl"), decisions: map[string]int{}}
	glob := filepath.Join(logDir, "*.jsonl")

	// Phase 1: lines written before and while the collector runs.
	w.js(60)
	r := start(t, dir, glob)
	w.js(90)
	w.garbage()
	w.containerMonitor(20)
	w.ffiDenied()
	r.waitDecisions(t, "phase 1", w.decisionLines())

	// Phase 2: rotate (rename, new file), keep writing.
	require.NoError(t, os.Rename(w.path, w.path+".1"))
	w.js(100)
	w.containerMonitor(10)
	r.waitDecisions(t, "phase 2", w.decisionLines())
	time.Sleep(time.Second) // a double count would show now
	require.Equal(t, float64(w.decisionLines()), r.decisions(), "after rotation, each line once")
	for key, n := range w.decisions {
		capability, decision, _ := strings.Cut(key, "/")
		if capability == "net" {
			continue // checked below through sandbox_operations_total
		}
		assert.Equal(t, float64(n), r.sum(r.promURL, "sandbox_capability_decisions_total",
			fmt.Sprintf(`capability="%s"`, capability), fmt.Sprintf(`decision="%s"`, decision)), key)
	}
	assert.Equal(t, float64(w.netLines), r.sum(r.promURL, "sandbox_operations_total", `kind="net"`, `extension="ext-weather"`))
	assert.Equal(t, float64(w.malformed), r.sum(r.telemetryURL, "otelcol_sandbox_metrics_malformed_records"), "torn line counted")
	assert.Contains(t, r.c.Output(), "Failed to process entry", "a torn line is logged")
	testutil.Eventually(t, 20*time.Second, func() bool {
		return r.sum(r.promURL, "sandbox_anomalies_total", `type="capability_denied"`, `extension="audit-ext-ffi"`) >= 1
	}, "capability_denied for the FFI.open")
	assert.True(t, r.c.WaitOutput("/usr/lib/x86_64-linux-gnu/libc.so.6", 5*time.Second), "the anomaly event names the library")
	phase12 := w.decisionLines()
	// Let the forensic queue's batch settle into the persistent queue.
	time.Sleep(500 * time.Millisecond)

	// Phase 3: SIGKILL, lines written while down, restart.
	r.c.Kill()
	anomaliesBefore := strings.Count(r.c.Output(), "EventName: sandbox.anomaly")
	w.js(50)
	w.garbage()
	r = start(t, dir, glob)
	r.waitDecisions(t, "phase 3 (after restart)", w.decisionLines()-phase12)
	time.Sleep(time.Second)
	require.Equal(t, float64(w.decisionLines()-phase12), r.decisions(), "after SIGKILL and restart: no line re-read, none skipped")
	assert.Equal(t, float64(1), r.sum(r.telemetryURL, "otelcol_sandbox_metrics_malformed_records"))

	// The archive holds every record, torn lines included (raw), and the
	// anomaly events the default config archives beside them (each one the
	// debug exporter printed, at most: one raised just before the SIGKILL
	// may not have reached the write-ahead log).
	anomalies := anomaliesBefore + strings.Count(r.c.Output(), "EventName: sandbox.anomaly")
	var stats struct {
		Logs int `json:"logs"`
	}
	testutil.Eventually(t, 40*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		out, err := testutil.RunCtl(t, ctx, "forensics", "stats", "--store", "file://"+filepath.Join(dir, "data", "forensic"))
		if err != nil {
			return false
		}
		_ = json.Unmarshal([]byte(out[strings.IndexByte(out, '{'):]), &stats)
		return stats.Logs >= w.total()
	}, "archived log records %d, lines written %d", stats.Logs, w.total())
	assert.GreaterOrEqual(t, stats.Logs, w.total(), "every line archived")
	assert.LessOrEqual(t, stats.Logs, w.total()+anomalies, "every line archived once (%d lines, %d anomaly events printed)", w.total(), anomalies)
}

// dump returns the sandbox series for a failure message.
func (r *running) dump() string {
	resp, err := http.Get(r.promURL)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var keep []string
	for _, l := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(l, "sandbox_capability") || strings.HasPrefix(l, "sandbox_operations") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}
