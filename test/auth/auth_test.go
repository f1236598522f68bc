// Package auth runs the gateway configs as shipped (config/gateway-tier1.yaml
// and config/gateway-tier2.yaml) with certificates and tokens made here,
// and checks what they refuse, what they flag and what they serve.
package auth

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/sandwatch/sandwatch/internal/devpki"
	"github.com/sandwatch/sandwatch/internal/otlpsend"
	"github.com/sandwatch/sandwatch/test/testutil"
)

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
