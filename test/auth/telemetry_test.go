package auth

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/sandwatch/sandwatch/internal/otlpsend"
)

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
