// Package mcp is the end-to-end suite of agent telemetry: the real
// @modelcontextprotocol/server-filesystem and server-everything from npm,
// driven over stdio by the real @modelcontextprotocol/sdk client in a
// small Node harness (harness/harness.js), traced by
// @traceloop/instrumentation-mcp, exporting OTLP to bin/sandwatch on
// config/default.yaml. Versions are pinned in harness/package-lock.json and
// installed by `make deps` (npm ci).
//
// Other test files of this package drive their own scripts through the
// same harness: build a Script, call Env.Run, and assert on Env's
// Prometheus endpoint, own telemetry and archive. Nothing here needs
// editing to add a scenario.
package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/test/testutil"
)

// Script is what the harness runs (see harness/harness.js).
type Script struct {
	// Service is the client's service.name (default mcp-harness).
	Service string `json:"service,omitempty"`
	// Content is Traceloop's traceContent: capture arguments and results
	// (nil: the instrumentation's default, on).
	Content *bool `json:"content,omitempty"`
	// Meta injects the client's active trace context into params._meta
	// (SEP-414), so a server that extracts it joins the client's trace.
	Meta bool `json:"meta,omitempty"`
	// Servers names the servers the calls use.
	Servers map[string]Server `json:"servers"`
	Calls   []Call            `json:"calls"`
	// Endpoint and Dump are set by Env.Run.
	Endpoint string `json:"endpoint,omitempty"`
	Dump     string `json:"dump,omitempty"`
}

// Server starts one MCP server over stdio: an npm package of the harness,
// or a command.
type Server struct {
	// Package is "filesystem" or "everything".
	Package string            `json:"package,omitempty"`
	Command string            `json:"command,omitempty"`
	Args    []string          `json:"args,omitempty"`
	Env     map[string]string `json:"env,omitempty"`
}

// Call is one request: a tool call, a resource read or a tools listing.
type Call struct {
	Server    string         `json:"server"`
	Session   int            `json:"session,omitempty"` // another client session to the same server
	Tool      string         `json:"tool,omitempty"`
	Arguments map[string]any `json:"arguments,omitempty"`
	Resource  string         `json:"resource,omitempty"`
	List      string         `json:"list,omitempty"`
}

// Result is what one call returned.
type Result struct {
	Server   string `json:"server"`
	Tool     string `json:"tool"`
	Resource string `json:"resource"`
	List     string `json:"list"`
	IsError  bool   `json:"is_error"`
	Error    string `json:"error"`
	Text     string `json:"text"`
}

// Env is a running collector on config/default.yaml.
type Env struct {
	t            *testing.T
	Dir          string
	Collector    *testutil.Collector
	OTLPHTTP     string // OTLP/HTTP traces URL
	PromURL      string // sandbox_* series
	TelemetryURL string // the collector's own metrics
	Store        string // the forensic archive
}

// Option changes how Start runs the collector.
type Option func(*startOptions)

type startOptions struct {
	overlays []string
}

// WithConfig merges configs (files or provider URIs such as
// "yaml:connectors::baseline::learn_invocations: 8") over
// config/default.yaml, in order, as the collector merges its --config
// flags.
func WithConfig(overlays ...string) Option {
	return func(o *startOptions) { o.overlays = append(o.overlays, overlays...) }
}

// Start runs bin/sandwatch on config/default.yaml (and the WithConfig
// overlays) with every listener on a free loopback port and sandbox series
// updated every 300ms.
func Start(t *testing.T, opts ...Option) *Env {
	t.Helper()
	harnessInstalled(t)
	var o startOptions
	for _, opt := range opts {
		opt(&o)
	}
	dir := t.TempDir()
	health, telemetry, prom, otlpHTTP := testutil.FreePort(t), testutil.FreePort(t), testutil.FreePort(t), testutil.FreePort(t)
	configs := append([]string{filepath.Join(testutil.RepoRoot(t), "config", "default.yaml")}, o.overlays...)
	c := testutil.StartCollectorConfigs(t, dir, configs,
		testutil.DefaultEnv(t, dir, health, telemetry,
			fmt.Sprintf("SANDWATCH_PROMETHEUS_ENDPOINT=127.0.0.1:%d", prom),
			fmt.Sprintf("SANDWATCH_OTLP_HTTP_ENDPOINT=127.0.0.1:%d", otlpHTTP),
			"SANDWATCH_METRICS_FLUSH_INTERVAL=300ms")...)
	c.WaitHealthy(fmt.Sprintf("http://127.0.0.1:%d/", health), 90*time.Second)
	return &Env{
		t: t, Dir: dir, Collector: c,
		OTLPHTTP:     fmt.Sprintf("http://127.0.0.1:%d/v1/traces", otlpHTTP),
		PromURL:      fmt.Sprintf("http://127.0.0.1:%d/metrics", prom),
		TelemetryURL: fmt.Sprintf("http://127.0.0.1:%d/metrics", telemetry),
		Store:        "file://" + filepath.Join(dir, "data", "forensic"),
	}
}

// harnessDir is where harness.js and its node_modules live.
func harnessDir(t testing.TB) string {
	return filepath.Join(testutil.RepoRoot(t), "test", "mcp", "harness")
}

// harnessInstalled skips outside `make test` (like testutil.Binary) and
// fails when the npm packages are missing.
func harnessInstalled(t *testing.T) {
	t.Helper()
	testutil.Binary(t, "SANDWATCH_BIN")
	if _, err := os.Stat(filepath.Join(harnessDir(t), "node_modules", ".installed")); err != nil {
		t.Fatalf("the MCP harness's npm packages are not installed: run `make deps` (%v)", err)
	}
}

// Run sends the script's calls through the harness, exporting to the
// collector; it returns each call's result and every span the harness
// exported (its own record, the truth for the archive checks).
func (e *Env) Run(s Script) ([]Result, ptrace.Traces) {
	e.t.Helper()
	s.Endpoint = e.OTLPHTTP
	f, err := os.CreateTemp(e.Dir, "script-*.json")
	if err != nil {
		e.t.Fatal(err)
	}
	s.Dump = f.Name() + ".spans.json"
	if err := json.NewEncoder(f).Encode(s); err != nil {
		e.t.Fatal(err)
	}
	f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join(harnessDir(e.t), "harness.js"), f.Name())
	cmd.Dir = e.Dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		e.t.Fatalf("harness: %v\n%s", err, stderr.String())
	}
	var res struct {
		Results []Result `json:"results"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		e.t.Fatalf("harness output %q: %v", out, err)
	}
	raw, err := os.ReadFile(s.Dump)
	if err != nil {
		e.t.Fatal(err)
	}
	td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(raw)
	if err != nil {
		e.t.Fatalf("harness spans: %v", err)
	}
	return res.Results, td
}

// Sum is the sum of a Prometheus series of the sandbox endpoint whose
// labels contain all fragments (`tool="read_text_file"`).
func (e *Env) Sum(name string, fragments ...string) float64 {
	v, _ := testutil.ScrapeSum(e.PromURL, name, fragments...)
	return v
}

// Archived returns the spans the forensic archive holds for traceID
// (hex), or an error while it does not have them yet.
func (e *Env) Archived(traceID string) (ptrace.Traces, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := testutil.RunCtl(e.t, ctx, "forensics", "get", "--store", e.Store, traceID)
	if err != nil {
		return ptrace.Traces{}, fmt.Errorf("%v: %s", err, out)
	}
	return (&ptrace.JSONUnmarshaler{}).UnmarshalTraces([]byte(strings.SplitN(out, "\n", 2)[0]))
}

// TraceIDs lists the trace IDs of td with their span counts.
func TraceIDs(td ptrace.Traces) map[string]int {
	out := map[string]int{}
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				out[spans.At(k).TraceID().String()]++
			}
		}
	}
	return out
}
