package auth

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/sandwatch/sandwatch/test/testutil"
)

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
