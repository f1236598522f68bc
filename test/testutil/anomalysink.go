package testutil

import (
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
)

// Anomaly is one anomaly record the baseline connector sent.
type Anomaly struct {
	// Source is the first path segment the exporter posted to
	// (endpoint http://sink/<source>), "" for the root.
	Source, Type, Ext, Trace, Learning string
	// Target and Observed are the record's anomaly.target and
	// anomaly.observed (for identity_mismatch: the sender and the reason).
	Target, Observed string
	Repeat           bool
	At               time.Time
}

// AnomalySink is an OTLP/HTTP logs endpoint collecting anomaly records
// (an otlp_http exporter's endpoint: URL, or URL/<source> to tell senders
// apart).
type AnomalySink struct {
	mu  sync.Mutex
	got []Anomaly
	URL string
}

// NewAnomalySink listens on a loopback port until the test ends.
func NewAnomalySink(t testing.TB) *AnomalySink {
	s := &AnomalySink{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(s.serve)}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	s.URL = "http://" + ln.Addr().String()
	return s
}

func (s *AnomalySink) serve(w http.ResponseWriter, r *http.Request) {
	source := ""
	if p := strings.TrimPrefix(r.URL.Path, "/"); strings.Count(p, "/") > 1 {
		source, _, _ = strings.Cut(p, "/")
	}
	body, _ := io.ReadAll(r.Body)
	req := plogotlp.NewExportRequest()
	if err := req.UnmarshalProto(body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	now := time.Now()
	rls := req.Logs().ResourceLogs()
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < rls.Len(); i++ {
		for j := 0; j < rls.At(i).ScopeLogs().Len(); j++ {
			recs := rls.At(i).ScopeLogs().At(j).LogRecords()
			for k := 0; k < recs.Len(); k++ {
				a := recs.At(k).Attributes()
				get := func(key string) string {
					if v, ok := a.Get(key); ok {
						return v.AsString()
					}
					return ""
				}
				tid := recs.At(k).TraceID()
				s.got = append(s.got, Anomaly{Source: source, Type: get("anomaly.type"), Ext: get("sandbox.extension.id"),
					Trace: hex.EncodeToString(tid[:]), Learning: get("anomaly.learning_state"),
					Target: get("anomaly.target"), Observed: get("anomaly.observed"), Repeat: get("anomaly.repeat") == "true", At: now})
			}
		}
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	out, _ := plogotlp.NewExportResponse().MarshalProto()
	_, _ = w.Write(out)
}

// All returns the records received so far.
func (s *AnomalySink) All() []Anomaly {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Anomaly(nil), s.got...)
}
