package traceql

import (
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// sampleTrace: root (shop, server) -> fetch (client, error, 500) ->
// dns (internal); root -> render (internal, 2 s). fetch carries the
// virtual anomaly attribute.
func sampleTrace() *Trace {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "shop")
	rs.Resource().Attributes().PutStr("extension.id", "weather-001")
	ss := rs.ScopeSpans().AppendEmpty()
	tid := pcommon.TraceID{1}
	base := time.Unix(1_700_000_000, 0)
	add := func(name string, id, parent byte, kind ptrace.SpanKind, start, dur time.Duration) ptrace.Span {
		s := ss.Spans().AppendEmpty()
		s.SetName(name)
		s.SetTraceID(tid)
		s.SetSpanID(pcommon.SpanID{id})
		if parent != 0 {
			s.SetParentSpanID(pcommon.SpanID{parent})
		}
		s.SetKind(kind)
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(base.Add(start)))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(base.Add(start + dur)))
		return s
	}
	root := add("checkout", 1, 0, ptrace.SpanKindServer, 0, 3*time.Second)
	root.Status().SetCode(ptrace.StatusCodeOk)
	fetch := add("GET /weather", 2, 1, ptrace.SpanKindClient, 10*time.Millisecond, 150*time.Millisecond)
	fetch.Status().SetCode(ptrace.StatusCodeError)
	fetch.Status().SetMessage("upstream timeout")
	fetch.Attributes().PutInt("http.status_code", 500)
	fetch.Attributes().PutStr("server.address", "paste.evil.example")
	fetch.Attributes().PutDouble("ratio", 0.25)
	fetch.Attributes().PutStr("extension.id", "span-level")
	tags := fetch.Attributes().PutEmptySlice("tags")
	tags.AppendEmpty().SetStr("a")
	tags.AppendEmpty().SetStr("b")
	dns := add("dns", 3, 2, ptrace.SpanKindInternal, 20*time.Millisecond, time.Millisecond)
	dns.Attributes().PutBool("cached", true)
	add("render", 4, 1, ptrace.SpanKindInternal, time.Second, 2*time.Second)
	t := &Trace{}
	for _, s := range ss.Spans().All() {
		t.Spans = append(t.Spans, Span{Span: s, Resource: rs.Resource()})
	}
	t.Spans[1].Virtual = map[string][]string{"sandwatch.anomaly": {"exfiltration", "new_destination"}}
	t.Link()
	return t
}

func TestMatch(t *testing.T) {
	tr := sampleTrace()
	if tr.RootName != "checkout" || tr.RootService != "shop" || tr.Duration != uint64(3*time.Second) {
		t.Fatalf("trace intrinsics: %q %q %d", tr.RootName, tr.RootService, tr.Duration)
	}
	names := func(idx []int) []string {
		var out []string
		for _, i := range idx {
			out = append(out, tr.Spans[i].Span.Name())
		}
		return out
	}
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{`{}`, []string{"checkout", "GET /weather", "dns", "render"}},
		{`{ status = error }`, []string{"GET /weather"}},
		{`{ status != error }`, []string{"checkout", "dns", "render"}},
		{`{ status = unset }`, []string{"dns", "render"}},
		{`{ kind = client }`, []string{"GET /weather"}},
		{`{ span.http.status_code >= 500 }`, []string{"GET /weather"}},
		{`{ span.http.status_code > 500 }`, nil},
		{`{ .http.status_code = 500.0 }`, []string{"GET /weather"}},
		{`{ span.ratio < 0.5 && span.ratio > 0 }`, []string{"GET /weather"}},
		{`{ span.ratio = 1 }`, nil},
		{`{ span.server.address = "paste.evil.example" }`, []string{"GET /weather"}},
		{`{ span.server.address =~ "paste\\..*" }`, []string{"GET /weather"}},
		{`{ span.server.address =~ "evil" }`, nil}, // fully anchored
		{`{ span.server.address !~ "paste.*" }`, nil},
		{`{ span.server.address != "x" }`, []string{"GET /weather"}}, // != needs the attribute
		{`{ span.server.address = nil }`, []string{"checkout", "dns", "render"}},
		{`{ span.server.address != nil }`, []string{"GET /weather"}},
		{`{ resource.service.name = "shop" }`, []string{"checkout", "GET /weather", "dns", "render"}},
		{`{ span.service.name = "shop" }`, nil},
		{`{ .service.name = "shop" }`, []string{"checkout", "GET /weather", "dns", "render"}},
		// Unscoped: the span's value first, else the resource's.
		{`{ .extension.id = "weather-001" }`, []string{"checkout", "dns", "render"}},
		{`{ resource.extension.id = "weather-001" }`, []string{"checkout", "GET /weather", "dns", "render"}},
		{`{ span.tags = "b" }`, []string{"GET /weather"}},
		{`{ span.cached = true }`, []string{"dns"}},
		{`{ span.cached = 1 }`, nil},
		{`{ name = "dns" || name = "render" }`, []string{"dns", "render"}},
		{`{ !(name = "dns") && kind = internal }`, []string{"render"}},
		{`{ statusMessage =~ ".*timeout" }`, []string{"GET /weather"}},
		{`{ duration > 1s }`, []string{"checkout", "render"}},
		{`{ duration < 2ms }`, []string{"dns"}},
		{`{ duration = 1000000 }`, []string{"dns"}},
		{`{ traceDuration >= 3s && rootName = "checkout" && rootServiceName = "shop" }`, []string{"checkout", "GET /weather", "dns", "render"}},
		{`{ trace:duration > 3s }`, nil},
		{`{ span:id = "0200000000000000" }`, []string{"GET /weather"}},
		{`{ trace:id = "01000000000000000000000000000000" && name = "dns" }`, []string{"dns"}},
		{`{ span.sandwatch.anomaly = "exfiltration" }`, []string{"GET /weather"}},
		{`{ .sandwatch.anomaly = "new_destination" }`, []string{"GET /weather"}},
		{`{ span.sandwatch.anomaly != "exfiltration" }`, nil},
		{`{ span.sandwatch.anomaly =~ "exfil.*" }`, []string{"GET /weather"}},
		{`{ span.sandwatch.anomaly != nil }`, []string{"GET /weather"}},
		{`{ true }`, []string{"checkout", "GET /weather", "dns", "render"}},
		{`{ false }`, nil},
		// Spanset operators.
		{`{ name = "dns" } && { name = "render" }`, []string{"dns", "render"}},
		{`{ name = "dns" } && { name = "nope" }`, nil},
		{`{ name = "dns" } || { name = "nope" }`, []string{"dns"}},
		{`{ kind = server } >> { kind = internal }`, []string{"dns", "render"}},
		{`{ kind = server } > { kind = internal }`, []string{"render"}},
		{`{ kind = client } > { name = "dns" }`, []string{"dns"}},
		{`{ name = "dns" } << { }`, []string{"checkout", "GET /weather"}},
		{`{ name = "dns" } < { }`, []string{"GET /weather"}},
		{`{ name = "render" } ~ { }`, []string{"GET /weather"}},
		{`{ name = "dns" } ~ { }`, nil},
	} {
		q, err := Parse(tc.q)
		if err != nil {
			t.Fatalf("%s: %v", tc.q, err)
		}
		if got := names(q.Match(tr)); !slices.Equal(got, tc.want) {
			t.Errorf("%s matched %q, want %q", tc.q, got, tc.want)
		}
	}
}

func TestLinkSurvivesParentCycle(t *testing.T) {
	tr := sampleTrace()
	// A hostile trace: the root's parent is its own grandchild.
	tr.Spans[0].Span.SetParentSpanID(pcommon.SpanID{3})
	tr.Link()
	q, _ := Parse(`{ name = "nope" } >> {} || { name = "x" } << {}`)
	if got := q.Match(tr); len(got) != 0 {
		t.Fatalf("matched %v", got)
	}
}
