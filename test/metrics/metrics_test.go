// Package metrics is the end-to-end test of the sandbox_metrics connector
// with a real Prometheus: the collector binary derives the series from
// simulated sandbox telemetry, Prometheus scrapes them, and every PromQL
// expression of the dashboards and alert rules must return data.
package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.yaml.in/yaml/v3"

	"github.com/sandwatch/sandwatch/internal/otlpsend"
	"github.com/sandwatch/sandwatch/internal/simulate"
	"github.com/sandwatch/sandwatch/test/testutil"
)

const collectorConfig = `
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:%[1]d
connectors:
  sandbox_metrics:
    flush_interval: 1s
    # Low on purpose: the workload must overflow (the overflow alert and
    # panels need data), while the first extensions keep their series.
    max_series_per_metric: 60
    exemplars:
      max_per_data_point: 2
    targets:
      enabled: true
      types: [host, table]
      top_k: 20
  # The anomaly panels and the SandboxAnomaly rule read what it emits.
  baseline:
    metrics_interval: 1s
exporters:
  prometheus:
    endpoint: 127.0.0.1:%[2]d
    enable_open_metrics: true
extensions:
  health_check:
    endpoint: 127.0.0.1:%[3]d
service:
  extensions: [health_check]
  telemetry:
    metrics:
      level: normal
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: %[4]d
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [sandbox_metrics, baseline]
    logs:
      receivers: [otlp]
      exporters: [sandbox_metrics, baseline]
    metrics:
      receivers: [sandbox_metrics, baseline]
      exporters: [prometheus]
`

const prometheusConfig = `
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%[1]q]
scrape_configs:
  - job_name: sandwatch
    static_configs: [{targets: ["127.0.0.1:%[2]d"]}]
  - job_name: sandwatch-self
    static_configs: [{targets: ["127.0.0.1:%[3]d"]}]
`

func TestDashboardsAndAlertsAgainstPrometheus(t *testing.T) {
	root := testutil.RepoRoot(t)
	dashDir := filepath.Join(root, "dashboards")
	alertsFile := filepath.Join(dashDir, "alerts.yaml")

	// promtool first: cheap, and independent of the binaries.
	promtool := lookPath(t, "promtool")
	runTool(t, promtool, "check", "rules", alertsFile)
	runTool(t, promtool, "test", "rules", filepath.Join(dashDir, "alerts_test.yaml"))

	otlpPort, promExpPort, healthPort, selfPort := testutil.FreePort(t), testutil.FreePort(t), testutil.FreePort(t), testutil.FreePort(t)
	col := testutil.StartCollector(t, fmt.Sprintf(collectorConfig, otlpPort, promExpPort, healthPort, selfPort))
	col.WaitHealthy(fmt.Sprintf("http://127.0.0.1:%d/", healthPort), 30*time.Second)

	promURL := startPrometheus(t, fmt.Sprintf(prometheusConfig, alertsFile, promExpPort, selfPort))

	sender, err := otlpsend.New("http", fmt.Sprintf("127.0.0.1:%d", otlpPort))
	require.NoError(t, err)
	t.Cleanup(func() { _ = sender.Close() })

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	w := newWorkload(t, ctx, sender)
	// Waves until Prometheus has scraped the derived series, then a few
	// more so that every rate() sees an increase.
	testutil.Eventually(t, 30*time.Second, func() bool {
		w.wave()
		return len(query(t, promURL, `sum(sandbox_operations_total)`)) > 0 &&
			len(query(t, promURL, `otelcol_sandbox_metrics_series`)) > 0 &&
			len(query(t, promURL, `sandbox_anomalies_total`)) > 0
	}, "sandbox_operations_total never reached Prometheus")
	for i := 0; i < 8; i++ {
		w.wave()
		time.Sleep(500 * time.Millisecond)
	}

	exprs := dashboardExprs(t, dashDir)
	exprs = append(exprs, alertExprs(t, alertsFile)...)
	require.Greater(t, len(exprs), 20)
	var checked int
	for _, e := range exprs {
		q := substitute(e.expr)
		res := query(t, promURL, q)
		if len(res) == 0 {
			t.Errorf("%s: no data for\n  %s", e.where, q)
		}
		checked++
	}
	t.Logf("%d PromQL expressions returned data", checked)

	// The rules loaded and evaluate without error.
	var rules struct {
		Data struct {
			Groups []struct {
				Rules []struct {
					Name   string `json:"name"`
					Health string `json:"health"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	getJSON(t, promURL+"/api/v1/rules", &rules)
	var n int
	for _, g := range rules.Data.Groups {
		for _, r := range g.Rules {
			n++
			require.NotEqual(t, "err", r.Health, "rule %s", r.Name)
		}
	}
	require.Equal(t, 5, n)

	// Exemplars reach Prometheus with trace IDs.
	var ex struct {
		Data []struct {
			Exemplars []struct {
				Labels map[string]string `json:"labels"`
			} `json:"exemplars"`
		} `json:"data"`
	}
	now := time.Now()
	getJSON(t, fmt.Sprintf("%s/api/v1/query_exemplars?query=%s&start=%d&end=%d", promURL,
		url.QueryEscape(`sandbox_operations_total`), now.Add(-5*time.Minute).Unix(), now.Unix()), &ex)
	var traceIDs int
	for _, s := range ex.Data {
		for _, e := range s.Exemplars {
			if len(e.Labels["trace_id"]) == 32 {
				traceIDs++
			}
		}
	}
	require.Positive(t, traceIDs, "no exemplar with a trace_id in Prometheus")
}

// workload sends simulated sandbox telemetry: benign invocations of many
// extensions (enough to overflow the cap), plus attack scenarios on the
// first extensions (denial bursts, EACCES/ENOENT recon) and spans without
// an extension id.
type workload struct {
	t      *testing.T
	ctx    context.Context
	sender otlpsend.Sender
	gen    *simulate.Generator
	jsExt  int
	n      int
}

func newWorkload(t *testing.T, ctx context.Context, sender otlpsend.Sender) *workload {
	g := simulate.New(simulate.Options{Seed: 4, Extensions: 120})
	js := -1
	for i, e := range g.Extensions() {
		if e.Style == simulate.StyleJS {
			js = i
			break
		}
	}
	require.GreaterOrEqual(t, js, 0)
	return &workload{t: t, ctx: ctx, sender: sender, gen: g, jsExt: js}
}

func (w *workload) wave() {
	now := time.Now()
	// Attacks first, so their extensions own series under the cap.
	for i := 0; i < 3; i++ {
		td, ld, _, err := w.gen.Inject("capability-denied", w.jsExt, now)
		require.NoError(w.t, err)
		w.send(td, ld)
	}
	td, ld, _, err := w.gen.Inject("recon", 1, now)
	require.NoError(w.t, err)
	w.send(td, ld)
	// A first recon burst on a fresh extension each wave: the baseline
	// connector reports it at severity error (repeated bursts on one
	// extension become its learned habit), which the SandboxAnomaly rule
	// and the anomaly panels need.
	td, ld, _, err = w.gen.Inject("recon", 60+w.n%60, now)
	require.NoError(w.t, err)
	w.send(td, ld)
	// A 150 MiB upload: sandbox_egress_bytes_total and the egress rule.
	td, ld, _, err = w.gen.Inject("egress-volume", 2, now)
	require.NoError(w.t, err)
	w.send(td, ld)
	w.send(unattributed(now), plog.NewLogs())
	td, ld = w.gen.Batch((w.n*37)%120, 400, now)
	w.send(td, ld)
	w.n++
}

func (w *workload) send(td ptrace.Traces, ld plog.Logs) {
	if td.SpanCount() > 0 {
		body, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
		require.NoError(w.t, err)
		_, err = w.sender.Send(w.ctx, otlpsend.Traces, body)
		require.NoError(w.t, err)
	}
	if ld.LogRecordCount() > 0 {
		body, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
		require.NoError(w.t, err)
		_, err = w.sender.Send(w.ctx, otlpsend.Logs, body)
		require.NoError(w.t, err)
	}
}

// unattributed is a span of some other service, without an extension id.
func unattributed(now time.Time) ptrace.Traces {
	td := ptrace.NewTraces()
	s := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetName("GET /healthz")
	s.SetTraceID([16]byte{1, 2, 3})
	s.SetSpanID([8]byte{4, 5, 6})
	return td
}

type located struct{ expr, where string }

// dashboardExprs returns every target expression of every panel (rows
// included) of every dashboard JSON.
func dashboardExprs(t *testing.T, dir string) []located {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	type panel struct {
		Title   string  `json:"title"`
		Panels  []panel `json:"panels"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	}
	var out []located
	var walk func(file string, ps []panel)
	walk = func(file string, ps []panel) {
		for _, p := range ps {
			for _, tg := range p.Targets {
				if tg.Expr != "" {
					out = append(out, located{tg.Expr, fmt.Sprintf("%s panel %q", filepath.Base(file), p.Title)})
				}
			}
			walk(file, p.Panels)
		}
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		var d struct {
			Panels []panel `json:"panels"`
		}
		require.NoError(t, json.Unmarshal(raw, &d), f)
		walk(f, d.Panels)
	}
	return out
}

func alertExprs(t *testing.T, file string) []located {
	raw, err := os.ReadFile(file)
	require.NoError(t, err)
	var f struct {
		Groups []struct {
			Rules []struct {
				Alert  string `yaml:"alert"`
				Record string `yaml:"record"`
				Expr   string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &f))
	var out []located
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			out = append(out, located{r.Expr, "alert " + r.Alert + r.Record})
		}
	}
	return out
}

// substitute replaces Grafana's variables with what Grafana would send.
var grafanaVars = strings.NewReplacer(
	"$__rate_interval", "20s", "${__rate_interval}", "20s", "$__interval", "5s",
	"${extension}", ".*", "$extension", ".*",
)

var leftover = regexp.MustCompile(`\$\{?\w+`)

func substitute(expr string) string {
	out := grafanaVars.Replace(expr)
	if m := leftover.FindString(out); m != "" {
		panic("unhandled Grafana variable " + m + " in " + expr)
	}
	return out
}

func query(t *testing.T, promURL, q string) []json.RawMessage {
	t.Helper()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	getJSON(t, promURL+"/api/v1/query?query="+url.QueryEscape(q), &r)
	if r.Status != "success" {
		t.Fatalf("query %s: %s", q, r.Error)
	}
	return r.Data.Result
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v), u)
}

func lookPath(t *testing.T, name string) string {
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found: install the Debian package prometheus (make deps)", name)
	}
	return p
}

func runTool(t *testing.T, bin string, args ...string) {
	out, err := exec.Command(bin, args...).CombinedOutput()
	require.NoError(t, err, "%s %s:\n%s", bin, strings.Join(args, " "), out)
}

// startPrometheus runs the Debian prometheus on a free loopback port with
// its own storage and extra command-line flags, and stops it when the test
// ends.
func startPrometheus(t *testing.T, config string, flags ...string) string {
	bin := lookPath(t, "prometheus")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(cfg, []byte(config), 0o600))
	port := testutil.FreePort(t)
	cmd := exec.Command(bin, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port), "--enable-feature=exemplar-storage")
	cmd.Args = append(cmd.Args, flags...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("prometheus output:\n%s", tail(out.String(), 4000))
		}
	})
	u := fmt.Sprintf("http://127.0.0.1:%d", port)
	testutil.Eventually(t, 30*time.Second, func() bool {
		resp, err := http.Get(u + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, "prometheus not ready at %s", u)
	return u
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
