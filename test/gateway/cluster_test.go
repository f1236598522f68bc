// Package gateway is the end-to-end test of the gateway mode: one tier-1
// collector (config/gateway-tier1.yaml: load_balancing by extension)
// in front of three tier-2 sandwatch replicas (config/gateway-tier2.yaml)
// sharing one object store, on loopback, with the real binaries.
package gateway

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/devpki"
	"github.com/sandwatch/sandwatch/internal/simulate"
	"github.com/sandwatch/sandwatch/test/testutil"
)

// anomaly is one record a replica sent to the sink (Source: the replica).
type anomaly = testutil.Anomaly

// replica is one tier-2 sandwatch.
type replica struct {
	name                                       string
	dir                                        string
	otlp, http, health, telemetry, prom, query int
	c                                          *testutil.Collector
}

func (r *replica) endpoint() string { return fmt.Sprintf("127.0.0.1:%d", r.otlp) }

// overlay adds what the test observes to config/gateway-tier2.yaml: the
// anomalies go to the sink, and every span and log record the replica
// receives is also written to spans.jsonl and logs.jsonl, so the test sees
// which replica got what.
const overlay = `
connectors:
  baseline:
    idle_timeout: 1s
    metrics_interval: 1s
exporters:
  otlp_http/anomalies:
    endpoint: %[1]s/%[2]s
    compression: none
    retry_on_failure:
      enabled: false
  file/spans:
    path: %[3]s/spans.jsonl
  file/logs:
    path: %[3]s/logs.jsonl
service:
  pipelines:
    traces:
      exporters: [forensic, sandbox_metrics, baseline, file/spans]
    logs:
      exporters: [forensic, sandbox_metrics, baseline, file/logs]
    logs/anomaly:
      exporters: [otlp_http/anomalies]
`

// cluster is tier 1 and the replicas.
type cluster struct {
	t        *testing.T
	pki      *devpki.Gateway
	store    string
	s3       *testutil.S3Server
	sink     *testutil.AnomalySink
	replicas []*replica
	tier1    *testutil.Collector
	t1dir    string
	t1       struct{ otlp, http, health, telemetry int }
}

func newCluster(t *testing.T, store string, s3 *testutil.S3Server, n int) *cluster {
	c := &cluster{t: t, store: store, s3: s3, sink: testutil.NewAnomalySink(t), t1dir: t.TempDir()}
	c.makePKI()
	c.t1.otlp, c.t1.http, c.t1.health, c.t1.telemetry = testutil.FreePort(t), testutil.FreePort(t), testutil.FreePort(t), testutil.FreePort(t)
	for i := range n {
		r := &replica{name: fmt.Sprintf("r%d", i), dir: t.TempDir()}
		r.otlp, r.http, r.health, r.telemetry, r.prom, r.query = testutil.FreePort(t), testutil.FreePort(t), testutil.FreePort(t), testutil.FreePort(t), testutil.FreePort(t), testutil.FreePort(t)
		c.replicas = append(c.replicas, r)
	}
	var wg sync.WaitGroup
	for _, r := range c.replicas {
		wg.Add(1)
		go func() { defer wg.Done(); c.startReplica(r) }()
	}
	wg.Wait()
	c.startTier1(c.replicas)
	return c
}

// makePKI: the gateway configs are secure by default; certificates,
// tokens and bindings are made here, and every sender of the test
// (sandwatchctl simulate, otlpsend) presents the sender's certificate and
// token through the OTLP exporter environment.
func (c *cluster) makePKI() {
	var ids []string // the sender may report the fleet's extensions, by name
	for _, e := range simulate.New(fleet).Extensions() {
		ids = append(ids, e.ID)
	}
	pki, err := devpki.NewGateway(c.t.TempDir(), ids...)
	require.NoError(c.t, err)
	c.pki = pki
	for _, kv := range pki.SenderEnv() {
		k, v, _ := strings.Cut(kv, "=")
		c.t.Setenv(k, v)
	}
}

func (c *cluster) startReplica(r *replica) {
	ov := filepath.Join(r.dir, "overlay.yaml")
	require.NoError(c.t, os.WriteFile(ov, []byte(fmt.Sprintf(overlay, c.sink.URL, r.name, r.dir)), 0o600))
	env := []string{
		"SANDWATCH_OTLP_GRPC_ENDPOINT=" + r.endpoint(),
		fmt.Sprintf("SANDWATCH_OTLP_HTTP_ENDPOINT=127.0.0.1:%d", r.http),
		fmt.Sprintf("SANDWATCH_HEALTH_ENDPOINT=127.0.0.1:%d", r.health),
		fmt.Sprintf("SANDWATCH_TELEMETRY_PORT=%d", r.telemetry),
		fmt.Sprintf("SANDWATCH_PROMETHEUS_ENDPOINT=127.0.0.1:%d", r.prom),
		fmt.Sprintf("SANDWATCH_QUERY_ENDPOINT=127.0.0.1:%d", r.query),
		"SANDWATCH_DATA_DIR=" + r.dir,
		"SANDWATCH_SHARED_STORE=" + c.store,
		"SANDWATCH_SAVE_INTERVAL=1s",
		"SANDWATCH_REPLICA=" + r.name,
		"SANDWATCH_MEMORY_LIMIT_MIB=512",
	}
	env = append(env, c.pki.CollectorEnv()...)
	if c.s3 != nil {
		env = append(env, "SANDWATCH_S3_ENDPOINT="+c.s3.Endpoint(), "SANDWATCH_S3_PATH_STYLE=true")
	}
	r.c = testutil.StartCollectorConfigs(c.t, r.dir, []string{filepath.Join(testutil.RepoRoot(c.t), "config", "gateway-tier2.yaml"), ov}, env...)
	r.c.WaitHealthy(fmt.Sprintf("http://127.0.0.1:%d/", r.health), 60*time.Second)
}

// startTier1 (re)starts tier 1 with a static list of backends: what the
// dns or k8s resolver would hand it after a membership change.
func (c *cluster) startTier1(backends []*replica) {
	var eps []string
	for _, r := range backends {
		eps = append(eps, r.endpoint())
	}
	c.tier1 = testutil.StartCollectorConfigs(c.t, c.t1dir, []string{filepath.Join(testutil.RepoRoot(c.t), "config", "gateway-tier1.yaml")}, append(c.pki.CollectorEnv(),
		fmt.Sprintf("SANDWATCH_OTLP_GRPC_ENDPOINT=127.0.0.1:%d", c.t1.otlp),
		fmt.Sprintf("SANDWATCH_OTLP_HTTP_ENDPOINT=127.0.0.1:%d", c.t1.http),
		fmt.Sprintf("SANDWATCH_HEALTH_ENDPOINT=127.0.0.1:%d", c.t1.health),
		fmt.Sprintf("SANDWATCH_TELEMETRY_PORT=%d", c.t1.telemetry),
		"SANDWATCH_DATA_DIR="+c.t1dir,
		"SANDWATCH_TIER1_RETRY_INITIAL=200ms",
		"SANDWATCH_TIER2_ENDPOINTS=["+strings.Join(eps, ", ")+"]")...)
	c.tier1.WaitHealthy(fmt.Sprintf("http://127.0.0.1:%d/", c.t1.health), 60*time.Second)
}

func (c *cluster) tier1Endpoint() string { return fmt.Sprintf("127.0.0.1:%d", c.t1.otlp) }

// spansByReplica reads each replica's spans.jsonl: for every span, the
// routing key tier 1 put on its resource (or, without one, the span's
// extension.id) and its trace.
type seen struct{ ext, trace string }

func (c *cluster) spansByReplica() map[string]map[seen]int {
	var um ptrace.JSONUnmarshaler
	return c.byReplica("spans.jsonl", func(line []byte, m map[seen]int) {
		td, err := um.UnmarshalTraces(line)
		if err != nil {
			return // a line cut by a SIGKILL
		}
		for i := 0; i < td.ResourceSpans().Len(); i++ {
			rs := td.ResourceSpans().At(i)
			key := routeKey(rs.Resource().Attributes())
			for j := 0; j < rs.ScopeSpans().Len(); j++ {
				spans := rs.ScopeSpans().At(j).Spans()
				for k := 0; k < spans.Len(); k++ {
					ext := key
					if v, ok := spans.At(k).Attributes().Get("extension.id"); ok && ext == "" {
						ext = v.AsString()
					}
					tid := spans.At(k).TraceID()
					m[seen{ext, hex.EncodeToString(tid[:])}]++
				}
			}
		}
	})
}

// logsByReplica is spansByReplica for the log records in logs.jsonl.
func (c *cluster) logsByReplica() map[string]map[seen]int {
	var um plog.JSONUnmarshaler
	return c.byReplica("logs.jsonl", func(line []byte, m map[seen]int) {
		ld, err := um.UnmarshalLogs(line)
		if err != nil {
			return
		}
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			rl := ld.ResourceLogs().At(i)
			key := routeKey(rl.Resource().Attributes())
			for j := 0; j < rl.ScopeLogs().Len(); j++ {
				recs := rl.ScopeLogs().At(j).LogRecords()
				for k := 0; k < recs.Len(); k++ {
					tid := recs.At(k).TraceID()
					m[seen{key, hex.EncodeToString(tid[:])}]++
				}
			}
		}
	})
}

func routeKey(res pcommon.Map) string {
	if v, ok := res.Get("sandwatch.route.extension"); ok {
		return v.AsString()
	}
	return ""
}

// byReplica feeds every line of each replica's file to fn.
func (c *cluster) byReplica(file string, fn func(line []byte, m map[seen]int)) map[string]map[seen]int {
	out := map[string]map[seen]int{}
	for _, r := range c.replicas {
		m := map[seen]int{}
		out[r.name] = m
		f, err := os.Open(filepath.Join(r.dir, file))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			fn(sc.Bytes(), m)
		}
		f.Close()
	}
	return out
}

// owners maps each extension to the replicas that received its spans,
// leaving out the traces in ignore.
func owners(by map[string]map[seen]int, ignore map[string]bool) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for rep, m := range by {
		for s := range m {
			if s.ext == "" || ignore[s.trace] {
				continue
			}
			if out[s.ext] == nil {
				out[s.ext] = map[string]bool{}
			}
			out[s.ext][rep] = true
		}
	}
	return out
}

// scrape returns the value of the first series of name with all labels.
func scrape(port int, name string, labels ...string) float64 {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	total := 0.0
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, name) {
			continue
		}
		ok := true
		for _, lb := range labels {
			ok = ok && strings.Contains(l, lb)
		}
		if !ok {
			continue
		}
		f := strings.Fields(l)
		v, _ := strconv.ParseFloat(f[len(f)-1], 64)
		total += v
	}
	return total
}

func runSimulate(t *testing.T, endpoint string, args ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, err := testutil.RunCtl(t, ctx, append([]string{"simulate", "--endpoint", endpoint}, args...)...)
	require.NoError(t, err, out)
}
