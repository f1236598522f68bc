package stock

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/test/testutil"
)

// attributes + transform: PII keys deleted or hashed, e-mail addresses and
// query tokens masked by OTTL, in spans and log bodies.
func TestPIIAttributesTransform(t *testing.T) {
	r := startStock(t, "pii-attributes-transform.yaml")
	td := ptrace.NewTraces()
	spans := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	s := spans.AppendEmpty()
	s.SetTraceID(traceID(1))
	s.SetSpanID(spanID(1))
	s.SetName("notify alice.smith@example.com")
	s.Attributes().PutStr("user.email", "alice.smith@example.com")
	s.Attributes().PutStr("http.request.header.authorization", "Bearer abc.def.ghi")
	s.Attributes().PutStr("enduser.id", "u-12345")
	s.Attributes().PutStr("url.full", "https://api.example.com/v1/items?token=s3cr3t&page=2")
	s.Attributes().PutStr("http.route", "/v1/items")
	sendTraces(t, r.grpc, td)

	ld := plog.NewLogs()
	rec := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	rec.Body().SetStr("password reset mailed to bob@example.org")
	sendLogs(t, r.grpc, ld)

	var got []ptrace.Span
	testutil.Eventually(t, 20*time.Second, func() bool {
		got = readSpans(t, filepath.Join(r.outDir, "traces.json"))
		return len(got) == 1
	}, "want 1 span in the output, have %d", len(got))
	out := got[0]
	assert.Equal(t, "notify <email>", out.Name())
	attrs := out.Attributes().AsRaw()
	assert.NotContains(t, attrs, "http.request.header.authorization")
	assert.NotContains(t, attrs, "enduser.id")
	assert.Equal(t, "production", attrs["deployment.environment"])
	assert.Equal(t, "https://api.example.com/v1/items?token=REDACTED&page=2", attrs["url.full"])
	hashed, _ := attrs["user.email"].(string)
	assert.Regexp(t, "^[0-9a-f]{64}$", hashed, "user.email is hashed (SHA-256 hex)")
	assert.Equal(t, "/v1/items", attrs["http.route"], "untouched keys stay")

	var logs []plog.LogRecord
	testutil.Eventually(t, 20*time.Second, func() bool {
		logs = readLogs(t, filepath.Join(r.outDir, "logs.json"))
		return len(logs) == 1
	}, "want 1 log record, have %d", len(logs))
	assert.Equal(t, "password reset mailed to <email>", logs[0].Body().Str())
}

// filter: health checks, readiness probes and kube-probe spans dropped,
// debug logs dropped; everything else passes.
func TestFilterDropsHealthChecks(t *testing.T) {
	r := startStock(t, "filter-healthchecks.yaml")
	td := ptrace.NewTraces()
	spans := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	add := func(n int, route, ua string) {
		s := spans.AppendEmpty()
		s.SetTraceID(traceID(n))
		s.SetSpanID(spanID(n))
		s.SetName("GET " + route)
		s.Attributes().PutStr("http.route", route)
		if ua != "" {
			s.Attributes().PutStr("user_agent.original", ua)
		}
	}
	add(1, "/healthz", "")
	add(2, "/readyz", "")
	add(3, "/api/orders", "")
	add(4, "/metrics", "kube-probe/1.31")
	add(5, "/api/orders/7", "curl/8.5")
	add(6, "/healthz", "kube-probe/1.31")
	add(7, "/api/users", "")
	sendTraces(t, r.grpc, td)

	ld := plog.NewLogs()
	recs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for i, sev := range []plog.SeverityNumber{plog.SeverityNumberDebug, plog.SeverityNumberInfo, plog.SeverityNumberTrace, plog.SeverityNumberError} {
		rec := recs.AppendEmpty()
		rec.SetSeverityNumber(sev)
		rec.Body().SetStr(sev.String() + " " + string(rune('a'+i)))
	}
	sendLogs(t, r.grpc, ld)

	var got []ptrace.Span
	testutil.Eventually(t, 20*time.Second, func() bool {
		got = readSpans(t, filepath.Join(r.outDir, "traces.json"))
		return len(got) >= 3
	}, "want 3 spans, have %d", len(got))
	var routes []string
	for _, s := range got {
		v, _ := s.Attributes().Get("http.route")
		routes = append(routes, v.Str())
	}
	slices.Sort(routes)
	assert.Equal(t, []string{"/api/orders", "/api/orders/7", "/api/users"}, routes)

	var logs []plog.LogRecord
	testutil.Eventually(t, 20*time.Second, func() bool {
		logs = readLogs(t, filepath.Join(r.outDir, "logs.json"))
		return len(logs) >= 2
	}, "want 2 log records, have %d", len(logs))
	var sevs []plog.SeverityNumber
	for _, l := range logs {
		sevs = append(sevs, l.SeverityNumber())
	}
	assert.ElementsMatch(t, []plog.SeverityNumber{plog.SeverityNumberInfo, plog.SeverityNumberError}, sevs)
}

// tail_sampling: every error trace and every slow trace is kept whole;
// fast clean traces are dropped.
func TestTailSamplingKeepsErrorsAndSlow(t *testing.T) {
	r := startStock(t, "tail-sampling.yaml")
	td := ptrace.NewTraces()
	spans := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	start := time.Now().Add(-5 * time.Second)
	want := map[pcommon.TraceID]int{}
	for n := 1; n <= 30; n++ {
		dur := 40 * time.Millisecond
		isErr := n%7 == 0
		slow := n%5 == 0
		if slow {
			dur = 800 * time.Millisecond
		}
		for k := range 3 { // a root and two children
			s := spans.AppendEmpty()
			s.SetTraceID(traceID(n))
			s.SetSpanID(spanID(n*10 + k))
			if k > 0 {
				s.SetParentSpanID(spanID(n * 10))
			}
			s.SetName("op")
			s.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
			s.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(dur)))
			if isErr && k == 2 {
				s.Status().SetCode(ptrace.StatusCodeError)
			}
		}
		if isErr || slow {
			want[pcommon.TraceID(traceID(n))] = 3
		}
	}
	sendTraces(t, r.grpc, td)

	got := map[pcommon.TraceID]int{}
	testutil.Eventually(t, 30*time.Second, func() bool {
		got = map[pcommon.TraceID]int{}
		for _, s := range readSpans(t, filepath.Join(r.outDir, "traces.json")) {
			got[s.TraceID()]++
		}
		return len(got) >= len(want)
	}, "want %d sampled traces, have %d", len(want), len(got))
	time.Sleep(1500 * time.Millisecond) // a late, wrong decision would show now
	got = map[pcommon.TraceID]int{}
	for _, s := range readSpans(t, filepath.Join(r.outDir, "traces.json")) {
		got[s.TraceID()]++
	}
	require.Len(t, want, 10, "the test's own mix: 4 error traces, 6 slow ones")
	assert.Equal(t, want, got)
}

// span: spans renamed from their attributes.
func TestSpanRename(t *testing.T) {
	r := startStock(t, "span-rename.yaml")
	td := ptrace.NewTraces()
	s := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetTraceID(traceID(9))
	s.SetSpanID(spanID(9))
	s.SetName("handler")
	s.Attributes().PutStr("http.request.method", "GET")
	s.Attributes().PutStr("http.route", "/api/items/{id}")
	sendTraces(t, r.grpc, td)
	var got []ptrace.Span
	testutil.Eventually(t, 20*time.Second, func() bool {
		got = readSpans(t, filepath.Join(r.outDir, "traces.json"))
		return len(got) == 1
	}, "want 1 span, have %d", len(got))
	assert.Equal(t, "GET /api/items/{id}", got[0].Name())
}
