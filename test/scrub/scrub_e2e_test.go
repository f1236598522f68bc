// Package scrub runs the corpus of planted credentials through the real
// sandwatch binary (otlp receiver -> scrub -> otlp_http exporter to an
// in-test OTLP server) and checks none survives in spans, logs or metrics.
package scrub

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/sandwatch/sandwatch/processor/scrubprocessor/scrubtest"
	"github.com/sandwatch/sandwatch/test/testutil"
)

// sink is a minimal OTLP/HTTP server collecting every string it receives.
type sink struct {
	mu                    sync.Mutex
	w                     *scrubtest.Strings
	traces, logs, metrics int
}

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var resp []byte
	switch r.URL.Path {
	case "/v1/traces":
		req := ptraceotlp.NewExportRequest()
		if err = req.UnmarshalProto(body); err == nil {
			s.w.Traces(req.Traces())
			s.traces += req.Traces().SpanCount()
			resp, _ = ptraceotlp.NewExportResponse().MarshalProto()
		}
	case "/v1/logs":
		req := plogotlp.NewExportRequest()
		if err = req.UnmarshalProto(body); err == nil {
			s.w.Logs(req.Logs())
			s.logs += req.Logs().LogRecordCount()
			resp, _ = plogotlp.NewExportResponse().MarshalProto()
		}
	case "/v1/metrics":
		req := pmetricotlp.NewExportRequest()
		if err = req.UnmarshalProto(body); err == nil {
			s.w.Metrics(req.Metrics())
			s.metrics += req.Metrics().DataPointCount()
			resp, _ = pmetricotlp.NewExportResponse().MarshalProto()
		}
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(resp)
}

func (s *sink) counts() (int, int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.traces, s.logs, s.metrics
}

func post(t *testing.T, url string, body []byte) {
	t.Helper()
	resp, err := http.Post(url, "application/x-protobuf", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("POST %s: %s %s", url, resp.Status, b)
	}
}

func TestCorpusThroughBinary(t *testing.T) {
	testutil.Binary(t, "SANDWATCH_BIN")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &sink{w: scrubtest.NewStrings()}
	srv := &http.Server{Handler: s}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	recv, health := testutil.FreePort(t), testutil.FreePort(t)
	cfg := fmt.Sprintf(`
extensions:
  health_check:
    endpoint: 127.0.0.1:%d
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:%d
processors:
  scrub:
exporters:
  otlp_http:
    endpoint: http://%s
    compression: none
    retry_on_failure:
      enabled: false
service:
  extensions: [health_check]
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      processors: [scrub]
      exporters: [otlp_http]
    logs:
      receivers: [otlp]
      processors: [scrub]
      exporters: [otlp_http]
    metrics:
      receivers: [otlp]
      processors: [scrub]
      exporters: [otlp_http]
`, health, recv, ln.Addr().String())
	c := testutil.StartCollector(t, cfg)
	c.WaitHealthy(fmt.Sprintf("http://127.0.0.1:%d/", health), 60*time.Second)

	corpus := scrubtest.Build(11, 1500)
	wantSpans, wantLogs, wantPoints := corpus.Traces.SpanCount(), corpus.Logs.LogRecordCount(), corpus.Metrics.DataPointCount()
	base := fmt.Sprintf("http://127.0.0.1:%d", recv)
	tb, _ := ptraceotlp.NewExportRequestFromTraces(corpus.Traces).MarshalProto()
	lb, _ := plogotlp.NewExportRequestFromLogs(corpus.Logs).MarshalProto()
	mb, _ := pmetricotlp.NewExportRequestFromMetrics(corpus.Metrics).MarshalProto()
	post(t, base+"/v1/traces", tb)
	post(t, base+"/v1/logs", lb)
	post(t, base+"/v1/metrics", mb)

	testutil.Eventually(t, 30*time.Second, func() bool {
		tr, lg, mt := s.counts()
		return tr == wantSpans && lg == wantLogs && mt == wantPoints
	}, "exported counts (spans, logs, points) did not reach (%d, %d, %d)", wantSpans, wantLogs, wantPoints)

	s.mu.Lock()
	survived, over := corpus.Check(s.w)
	s.mu.Unlock()
	for _, p := range survived {
		t.Errorf("survived through the binary: rule %s in %s", p.Rule, p.Carrier)
	}
	rate := float64(len(over)) / float64(len(corpus.Benign))
	t.Logf("planted %d credentials; %d survived; benign over-redaction %d/%d (%.2f%%)", len(corpus.Planted), len(survived), len(over), len(corpus.Benign), 100*rate)
	if rate > 0.001 {
		t.Errorf("over-redaction %.3f%% above the stated 0.1%%: %v", 100*rate, over)
	}
}
