// Package auth runs the gateway configs as shipped (config/gateway-tier1.yaml
// and config/gateway-tier2.yaml) with certificates and tokens made here,
// and checks what they refuse, what they flag and what they serve.
package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/sandwatch/sandwatch/internal/devpki"
	"github.com/sandwatch/sandwatch/internal/otlpsend"
	"github.com/sandwatch/sandwatch/test/testutil"
)

var loopbackIPs = []net.IP{net.ParseIP("127.0.0.1")}

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

// spans returns one invocation of n HTTP calls (a new trace) claiming ext, to url,
// with resource attributes res (e.g. a forged stamp).
func spans(ext, url string, n int, res map[string]string) (ptrace.Traces, string) {
	var tid [16]byte
	_, _ = rand.Read(tid[:])
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "agent-host")
	for k, v := range res {
		rs.Resource().Attributes().PutStr(k, v)
	}
	ss := rs.ScopeSpans().AppendEmpty()
	now := time.Now()
	// The invocation (a wrapper span, not an operation), then n calls.
	root := ss.Spans().AppendEmpty()
	root.SetTraceID(tid)
	var rootID [8]byte
	_, _ = rand.Read(rootID[:])
	root.SetSpanID(rootID)
	root.SetName("extension.invoke")
	root.SetStartTimestamp(pcommonTime(now))
	root.SetEndTimestamp(pcommonTime(now.Add(time.Duration(n)*time.Millisecond + 10*time.Millisecond)))
	root.Attributes().PutStr("extension.id", ext)
	for i := range n {
		s := ss.Spans().AppendEmpty()
		s.SetTraceID(tid)
		s.SetParentSpanID(rootID)
		var sid [8]byte
		_, _ = rand.Read(sid[:])
		s.SetSpanID(sid)
		s.SetName("HttpRequestBlock")
		s.SetStartTimestamp(pcommonTime(now.Add(time.Duration(i) * time.Millisecond)))
		s.SetEndTimestamp(pcommonTime(now.Add(time.Duration(i)*time.Millisecond + 5*time.Millisecond)))
		a := s.Attributes()
		a.PutStr("extension.id", ext)
		a.PutStr("block.type", "HttpRequestBlock")
		a.PutStr("http.url", url)
		a.PutStr("http.method", "GET")
		a.PutInt("http.status_code", 200)
	}
	return td, hex.EncodeToString(tid[:])
}

// auditRecord is a capability-audit log record (a JSON-line's shape, as
// the audit_log profile reads it) of ext connecting to host, in a new trace.
func auditRecord(ext, host string) (plog.Logs, string) {
	var tid [16]byte
	_, _ = rand.Read(tid[:])
	ld := plog.NewLogs()
	r := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	r.SetTraceID(tid)
	r.SetTimestamp(pcommonTime(time.Now()))
	body := r.Body().SetEmptyMap()
	body.PutStr("extension", ext)
	body.PutStr("capability", "fetch")
	body.PutStr("decision", "permitted")
	body.PutStr("host", host)
	return ld, hex.EncodeToString(tid[:])
}

// send posts td over gRPC with the given TLS config and headers.
func send(t *testing.T, port int, tlsCfg *tls.Config, headers map[string]string, td ptrace.Traces) error {
	t.Helper()
	snd, err := otlpsend.NewWith("grpc", fmt.Sprintf("127.0.0.1:%d", port), otlpsend.Options{TLS: tlsCfg, Headers: headers})
	must(t, err)
	defer snd.Close()
	return sendWith(snd, td)
}

func sendHTTP(t *testing.T, port int, tlsCfg *tls.Config, headers map[string]string, td ptrace.Traces) error {
	t.Helper()
	snd, err := otlpsend.NewWith("http", fmt.Sprintf("127.0.0.1:%d", port), otlpsend.Options{TLS: tlsCfg, Headers: headers})
	must(t, err)
	defer snd.Close()
	return sendWith(snd, td)
}

func sendWith(snd otlpsend.Sender, td ptrace.Traces) error {
	body, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = snd.Send(ctx, otlpsend.Traces, body)
	return err
}

const grafanaPassword = "grafana-basic-password-0123"

func bearer(tok string) map[string]string { return map[string]string{"authorization": "Bearer " + tok} }

func TestGatewaySecurity(t *testing.T) {
	g := start(t)
	k := g.k

	t.Run("no credentials refused", func(t *testing.T) {
		td, _ := spans("ext-a", "https://api.example.com/a", 1, nil)
		if err := send(t, g.t2grpc, nil, nil, td); err == nil {
			t.Error("plaintext gRPC accepted")
		}
		if err := send(t, g.t2grpc, k.tls(t, ""), nil, td); err == nil {
			t.Error("gRPC over TLS without a client certificate accepted")
		}
		err := sendHTTP(t, g.t2http, k.tls(t, ""), nil, td)
		if err == nil || !strings.Contains(err.Error(), "401") {
			t.Errorf("OTLP/HTTP without a token: %v, want 401", err)
		}
		err = sendHTTP(t, g.t2http, k.tls(t, ""), bearer("wrong-token"), td)
		if err == nil || !strings.Contains(err.Error(), "401") {
			t.Errorf("OTLP/HTTP with a wrong token: %v, want 401", err)
		}
		if err := sendHTTP(t, g.t2http, nil, bearer(tokenB), td); err == nil {
			t.Error("plaintext OTLP/HTTP accepted")
		}
		if _, err := testutil.ScrapeSum(fmt.Sprintf("http://127.0.0.1:%d/metrics", g.t2prom), "sandbox_operations_total"); err == nil {
			t.Error("the sandbox metrics were served in plaintext")
		}
	})

	t.Run("certificate from another CA refused", func(t *testing.T) {
		td, _ := spans("ext-a", "https://api.example.com/a", 1, nil)
		for _, port := range []int{g.t2grpc, g.t1grpc} {
			if err := send(t, port, k.tls(t, "other-ca"), nil, td); err == nil {
				t.Errorf("port %d: accepted", port)
			}
			if err := handshake(port, k.tls(t, "other-ca")); err == nil || !strings.Contains(err.Error(), "tls: unknown certificate authority") {
				t.Errorf("port %d: %v, want the server's 'unknown certificate authority'", port, err)
			}
		}
	})

	t.Run("expired certificate refused, saying so", func(t *testing.T) {
		td, _ := spans("ext-a", "https://api.example.com/a", 1, nil)
		for _, port := range []int{g.t2grpc, g.t1grpc} {
			if err := send(t, port, k.tls(t, "expired"), nil, td); err == nil {
				t.Errorf("port %d: accepted", port)
			}
			if err := handshake(port, k.tls(t, "expired")); err == nil || !strings.Contains(err.Error(), "tls: expired certificate") {
				t.Errorf("port %d: %v, want the server's 'expired certificate'", port, err)
			}
		}
	})

	t.Run("server certificate rotated on disk without a restart", func(t *testing.T) {
		before := serverSerial(t, g.t2grpc, k.tls(t, "agent-a"))
		rotated := k.rotateServer(t)
		if before == rotated {
			t.Fatal("the rotated certificate has the old serial")
		}
		deadline := time.Now().Add(20 * time.Second)
		got := before
		for got != rotated && time.Now().Before(deadline) {
			time.Sleep(500 * time.Millisecond)
			got = serverSerial(t, g.t2grpc, k.tls(t, "agent-a"))
		}
		if got != rotated {
			t.Fatalf("tier 2 still serves serial %s, want the rotated %s", got, rotated)
		}
		if g.tier2.Exited() {
			t.Fatal("tier 2 restarted")
		}
	})

	t.Run("client CA rotated on disk without a restart", func(t *testing.T) {
		trust := k.addClientCA(t)
		td, _ := spans("ext-a", "https://api.example.com/a", 1, nil)
		if err := handshake(g.t2grpc, k.tls(t, "agent-a-ca2")); err == nil || !strings.Contains(err.Error(), "unknown certificate authority") {
			t.Fatalf("before the CA file changed: %v, want unknown certificate authority", err)
		}
		trust()
		deadline := time.Now().Add(20 * time.Second)
		var err error
		for err = send(t, g.t2grpc, k.tls(t, "agent-a-ca2"), nil, td); err != nil && time.Now().Before(deadline); {
			time.Sleep(500 * time.Millisecond)
			err = send(t, g.t2grpc, k.tls(t, "agent-a-ca2"), nil, td)
		}
		if err != nil {
			t.Fatalf("a certificate of the newly trusted CA still refused: %v", err)
		}
	})

	// agent-b (token, over OTLP/HTTP) teaches ext-b its one destination.
	const benignURL = "https://api.weather.gov/points"
	var bSpans int
	for range 5 {
		td, _ := spans("ext-b", benignURL, 4, nil)
		must(t, sendHTTP(t, g.t2http, k.tls(t, ""), bearer(tokenB), td))
		bSpans += 4
	}
	metricsURL := fmt.Sprintf("https://127.0.0.1:%d/metrics", g.t2prom)
	waitMetric(t, g, metricsURL, `extension="ext-b"`, float64(bSpans))
	profile := filepath.Join(g.store, "baseline", "profiles", "ext-b.json.gz")
	waitFile(t, profile)
	time.Sleep(2500 * time.Millisecond) // two save intervals: the last save holds all of B's spans
	before, err := os.ReadFile(profile)
	must(t, err)

	// bUnchanged waits three profile saves and metric flushes, then
	// checks that ext-b's stored profile is byte for byte what B taught it
	// and that its metrics count B's spans only.
	bUnchanged := func(t *testing.T) {
		t.Helper()
		time.Sleep(3 * time.Second)
		after, err := os.ReadFile(profile)
		must(t, err)
		if !bytes.Equal(before, after) {
			t.Error("ext-b's stored profile changed")
		}
		if n, _ := testutil.ScrapeSumWith(g.scraper, metricsURL, "sandbox_operations_total", `extension="ext-b"`); n != float64(bSpans) {
			t.Errorf("ext-b's operations = %v, want B's own %d", n, bSpans)
		}
	}

	var mismatchTrace string
	t.Run("client bound to A claiming B: archived, flagged, not learned, not counted", func(t *testing.T) {
		td, trace := spans("ext-b", "https://evil-exfil.example/upload", 6, nil)
		must(t, send(t, g.t2grpc, k.tls(t, "agent-a"), nil, td))
		mismatchTrace = trace
		a := waitAnomaly(t, g.sink, trace)
		if a.Ext != "ext-b" || a.Target != "agent-a" || !strings.Contains(a.Observed, "extension_not_bound") {
			t.Errorf("anomaly %+v, want ext-b sent by agent-a (extension_not_bound)", a)
		}
		bUnchanged(t)
	})

	t.Run("forensic_query: 401 without a token, the trace with one", func(t *testing.T) {
		url := fmt.Sprintf("https://127.0.0.1:%d/api/traces/%s", g.t2query, mismatchTrace)
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: k.tls(t, "")}, Timeout: 10 * time.Second}
		if code, _ := get(t, client, url, ""); code != http.StatusUnauthorized {
			t.Errorf("without a token: %d, want 401", code)
		}
		if code, _ := get(t, client, url, "wrong"); code != http.StatusUnauthorized {
			t.Errorf("with a wrong token: %d, want 401", code)
		}
		deadline := time.Now().Add(60 * time.Second)
		for {
			code, body := get(t, client, url, tokenQuery)
			if code == http.StatusOK && strings.Contains(body, "evil-exfil.example") {
				if !strings.Contains(body, "sandwatch.identity.mismatch") || !strings.Contains(body, "agent-a") {
					t.Errorf("archived spans lack the flag or the sender: %.400s", body)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("trace %s not served: %d %.300s", mismatchTrace, code, body)
			}
			time.Sleep(time.Second)
		}
		basic := fmt.Sprintf("https://127.0.0.1:%d/api/traces/%s", g.t2basic, mismatchTrace)
		if code, _ := getBasic(t, client, basic, "grafana", "wrong"); code != http.StatusUnauthorized {
			t.Errorf("basic auth, wrong password: %d, want 401", code)
		}
		if code, body := getBasic(t, client, basic, "grafana", grafanaPassword); code != http.StatusOK || !strings.Contains(body, "evil-exfil.example") {
			t.Errorf("basic auth: %d %.200s, want the trace", code, body)
		}
	})

	t.Run("through tier 1: the stamp carries agent-a's identity", func(t *testing.T) {
		own, ownTrace := spans("ext-a", "https://api.example.com/a", 3, nil)
		must(t, send(t, g.t1grpc, k.tls(t, "agent-a"), nil, own))
		td, trace := spans("ext-b", "https://evil-exfil.example/tier1", 5, nil)
		must(t, send(t, g.t1grpc, k.tls(t, "agent-a"), nil, td))
		a := waitAnomaly(t, g.sink, trace)
		if a.Ext != "ext-b" || a.Target != "agent-a" || !strings.Contains(a.Observed, "extension_not_bound") {
			t.Errorf("anomaly %+v, want ext-b sent by agent-a through tier 1", a)
		}
		waitMetric(t, g, metricsURL, `extension="ext-a"`, 3) // agent-a's own spans count
		for _, x := range g.sink.All() {
			if x.Trace == ownTrace {
				t.Errorf("agent-a's own ext-a spans flagged: %+v", x)
			}
		}
		bUnchanged(t)
	})

	t.Run("bindings reloaded without a restart; a bad edit keeps the last good ones", func(t *testing.T) {
		td, trace := spans("ext-c", "https://api.example.com/c", 2, nil)
		must(t, send(t, g.t2grpc, k.tls(t, "agent-a"), nil, td))
		waitAnomaly(t, g.sink, trace) // not bound yet
		k.bind(t, "ext-a", "ext-c")
		deadline := time.Now().Add(20 * time.Second)
		for {
			td, trace = spans("ext-c", "https://api.example.com/c", 2, nil)
			must(t, send(t, g.t2grpc, k.tls(t, "agent-a"), nil, td))
			time.Sleep(1500 * time.Millisecond) // a metrics flush
			if n, _ := testutil.ScrapeSumWith(g.scraper, metricsURL, "sandbox_operations_total", `extension="ext-c"`); n > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("agent-a still may not report ext-c after the bindings changed")
			}
		}
		for _, a := range g.sink.All() {
			if a.Trace == trace {
				t.Errorf("ext-c flagged after its binding: %+v", a)
			}
		}
		must(t, devpki.WriteFile(filepath.Join(k.dir, "identities.yaml"), []byte("identities:\n  - {name: agent-a, extension: [ext-a]}\n")))
		time.Sleep(2500 * time.Millisecond) // two reload intervals
		td, trace = spans("ext-c", "https://api.example.com/c", 2, nil)
		must(t, send(t, g.t2grpc, k.tls(t, "agent-a"), nil, td))
		time.Sleep(1500 * time.Millisecond)
		for _, a := range g.sink.All() {
			if a.Trace == trace {
				t.Errorf("a bad bindings file replaced the good ones: %+v", a)
			}
		}
		if !g.tier2.WaitOutput("identity bindings not reloaded; the previous bindings stay", 5*time.Second) {
			t.Error("the bad bindings file was not reported")
		}
		k.bind(t, "ext-a") // as the other cases expect
		time.Sleep(2500 * time.Millisecond)
	})

	t.Run("an authenticated but unbound token: every record flagged unidentified", func(t *testing.T) {
		td, trace := spans("ext-b", "https://api.example.com/u", 2, nil)
		must(t, sendHTTP(t, g.t2http, k.tls(t, ""), bearer(tokenUnbound), td))
		a := waitAnomaly(t, g.sink, trace)
		if a.Ext != "ext-b" || !strings.Contains(a.Observed, "unidentified") {
			t.Errorf("anomaly %+v, want ext-b, unidentified", a)
		}
		bUnchanged(t)
	})

	t.Run("an audit log record claiming B from A is flagged too", func(t *testing.T) {
		ld, trace := auditRecord("ext-b", "evil-exfil.example")
		snd, err := otlpsend.NewWith("grpc", fmt.Sprintf("127.0.0.1:%d", g.t2grpc), otlpsend.Options{TLS: k.tls(t, "agent-a")})
		must(t, err)
		defer snd.Close()
		body, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
		must(t, err)
		_, err = snd.Send(context.Background(), otlpsend.Logs, body)
		must(t, err)
		a := waitAnomaly(t, g.sink, trace)
		if a.Ext != "ext-b" || a.Target != "agent-a" {
			t.Errorf("anomaly %+v, want ext-b from agent-a", a)
		}
		bUnchanged(t)
	})

	t.Run("forged tier-1 stamp sent to tier 2 directly is flagged", func(t *testing.T) {
		td, trace := spans("ext-b", "https://evil-exfil.example/forged", 4, map[string]string{"sandwatch.identity": "agent-b"})
		must(t, send(t, g.t2grpc, k.tls(t, "rogue"), nil, td))
		a := waitAnomaly(t, g.sink, trace)
		if a.Ext != "ext-b" || a.Target != "rogue" || !strings.Contains(a.Observed, "forged_stamp") {
			t.Errorf("anomaly %+v, want ext-b from rogue, forged_stamp", a)
		}
		bUnchanged(t)
	})
}

// handshake connects as a gRPC client would and returns why the server
// ended the connection: with TLS 1.3 the server judges the client's
// certificate after the client has finished, so its alert (which names the
// reason) arrives on the first read.
func handshake(port int, cfg *tls.Config) error {
	cfg.NextProtos = []string{"h2"}
	conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port), cfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = conn.Read(make([]byte, 1))
	return err
}

func serverSerial(t *testing.T, port int, cfg *tls.Config) string {
	t.Helper()
	cfg.NextProtos = []string{"h2"} // as a gRPC client offers
	conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port), cfg)
	must(t, err)
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
}

func get(t *testing.T, c *http.Client, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	must(t, err)
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	must(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(body)
}

func getBasic(t *testing.T, c *http.Client, url, user, password string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	must(t, err)
	req.SetBasicAuth(user, password)
	resp, err := c.Do(req)
	must(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(body)
}

func waitAnomaly(t *testing.T, sink *testutil.AnomalySink, trace string) testutil.Anomaly {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, a := range sink.All() {
			if a.Trace == trace && a.Type == "identity_mismatch" {
				return a
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("no identity_mismatch for trace %s; got %+v", trace, sink.All())
	return testutil.Anomaly{}
}

func waitMetric(t *testing.T, g *gateway, url, label string, want float64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var n float64
	for time.Now().Before(deadline) {
		n, _ = testutil.ScrapeSumWith(g.scraper, url, "sandbox_operations_total", label)
		if n >= want {
			return
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("sandbox_operations_total{%s} = %v, want %v", label, n, want)
}

func waitFile(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("%s never written", path)
}

func pcommonTime(t time.Time) pcommon.Timestamp { return pcommon.NewTimestampFromTime(t) }
