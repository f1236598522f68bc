package auth

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sandwatch/sandwatch/test/testutil"
)

// overlay makes tier 2 observable: anomalies to the sink, metrics and
// profiles flushed every second.
const overlay = `
connectors:
  baseline:
    dedup_interval: 0s   # every flagged span reported, so each case sees its own
    idle_timeout: 1s
    metrics_interval: 1s
  sandbox_metrics:
    flush_interval: 1s
extensions:
  # Grafana's other option: basic auth, on a second query listener.
  basicauth/query:
    htpasswd:
      inline: "grafana:%[2]s"
  forensic_query/basic:
    endpoint: 127.0.0.1:%[3]d
    store: ${env:SANDWATCH_SHARED_STORE}
    tls:
      cert_file: ${env:SANDWATCH_TLS_DIR}/tls.crt
      key_file: ${env:SANDWATCH_TLS_DIR}/tls.key
    auth:
      authenticator: basicauth/query
exporters:
  otlp_http/anomalies:
    endpoint: %[1]s
    compression: none
service:
  extensions: [health_check, bearertokenauth/clients, bearertokenauth/query, forensic_query, basicauth/query, forensic_query/basic]
  pipelines:
    logs/anomaly:
      exporters: [otlp_http/anomalies]
`

type gateway struct {
	k                               *kit
	sink                            *testutil.AnomalySink
	store                           string
	t2grpc, t2http, t2query, t2prom int
	t2basic, t1grpc                 int
	scraper                         *http.Client // trusts the suite's CA
	tier2, tier1                    *testutil.Collector
}

func start(t *testing.T) *gateway {
	k := newKit(t)
	g := &gateway{k: k, sink: testutil.NewAnomalySink(t), store: t.TempDir()}
	g.scraper = &http.Client{Transport: &http.Transport{TLSClientConfig: k.tls(t, "")}, Timeout: 10 * time.Second}
	root := testutil.RepoRoot(t)

	dir := t.TempDir()
	ov := filepath.Join(dir, "overlay.yaml")
	g.t2grpc, g.t2http, g.t2query, g.t2prom, g.t2basic = testutil.FreePort(t), testutil.FreePort(t), testutil.FreePort(t), testutil.FreePort(t), testutil.FreePort(t)
	must(t, os.WriteFile(ov, []byte(fmt.Sprintf(overlay, g.sink.URL, grafanaPassword, g.t2basic)), 0o600))
	health := testutil.FreePort(t)
	env := append(k.env(),
		fmt.Sprintf("SANDWATCH_OTLP_GRPC_ENDPOINT=127.0.0.1:%d", g.t2grpc),
		fmt.Sprintf("SANDWATCH_OTLP_HTTP_ENDPOINT=127.0.0.1:%d", g.t2http),
		fmt.Sprintf("SANDWATCH_HEALTH_ENDPOINT=127.0.0.1:%d", health),
		fmt.Sprintf("SANDWATCH_TELEMETRY_PORT=%d", testutil.FreePort(t)),
		fmt.Sprintf("SANDWATCH_PROMETHEUS_ENDPOINT=127.0.0.1:%d", g.t2prom),
		fmt.Sprintf("SANDWATCH_QUERY_ENDPOINT=127.0.0.1:%d", g.t2query),
		"SANDWATCH_DATA_DIR="+dir,
		"SANDWATCH_SHARED_STORE=file://"+g.store,
		"SANDWATCH_SAVE_INTERVAL=1s",
		"SANDWATCH_MEMORY_LIMIT_MIB=512")
	g.tier2 = testutil.StartCollectorConfigs(t, dir, []string{filepath.Join(root, "config", "gateway-tier2.yaml"), ov}, env...)
	g.tier2.WaitHealthy(fmt.Sprintf("http://127.0.0.1:%d/", health), 60*time.Second)

	dir1 := t.TempDir()
	g.t1grpc = testutil.FreePort(t)
	health1 := testutil.FreePort(t)
	g.tier1 = testutil.StartCollectorConfigs(t, dir1, []string{filepath.Join(root, "config", "gateway-tier1.yaml")}, append(k.env(),
		fmt.Sprintf("SANDWATCH_OTLP_GRPC_ENDPOINT=127.0.0.1:%d", g.t1grpc),
		fmt.Sprintf("SANDWATCH_OTLP_HTTP_ENDPOINT=127.0.0.1:%d", testutil.FreePort(t)),
		fmt.Sprintf("SANDWATCH_HEALTH_ENDPOINT=127.0.0.1:%d", health1),
		fmt.Sprintf("SANDWATCH_TELEMETRY_PORT=%d", testutil.FreePort(t)),
		"SANDWATCH_DATA_DIR="+dir1,
		"SANDWATCH_TIER1_RETRY_INITIAL=200ms",
		fmt.Sprintf("SANDWATCH_TIER2_ENDPOINTS=[127.0.0.1:%d]", g.t2grpc))...)
	g.tier1.WaitHealthy(fmt.Sprintf("http://127.0.0.1:%d/", health1), 60*time.Second)
	return g
}
