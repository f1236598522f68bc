package forensicqueryextension

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/archive"
	"github.com/sandwatch/sandwatch/internal/simulate"
)

// searchArchive writes 60 simulated invocations of 4 extensions, one a
// second from base, and flags every 10th trace exfiltration (an anomaly
// event as the baseline connector writes it). It returns the flagged ids.
func searchArchive(t *testing.T, dir string, base time.Time) (flagged []string) {
	t.Helper()
	ctx := context.Background()
	b, _, err := archive.Open(ctx, "file://"+dir, archive.S3Options{})
	require.NoError(t, err)
	defer b.Close()
	ext := func(res pcommon.Resource, sp ptrace.Span) string {
		for _, k := range []string{"sandbox.extension.id", "extension.id", "plugin.id", "sandbox.script.id"} {
			if v, ok := sp.Attributes().Get(k); ok {
				return v.AsString()
			}
			if v, ok := res.Attributes().Get(k); ok {
				return v.AsString()
			}
		}
		return ""
	}
	w := &archive.Writer{Bucket: b, Format: archive.DefaultFormat, Extensions: archive.Extensions{OfSpan: ext},
		Anomalies: anomalyFinderForTest.Find}
	g := simulate.New(simulate.Options{Seed: 5, Extensions: 4})
	for i := range 60 {
		at := base.Add(time.Duration(i) * time.Second)
		td, _ := g.Invocation(i%4, at)
		w.Now = func() time.Time { return at.Add(5 * time.Second) }
		_, err := w.WriteTraces(ctx, td)
		require.NoError(t, err)
		if i%10 == 0 {
			root := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
			ld := plog.NewLogs()
			r := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
			r.SetEventName("sandbox.anomaly")
			r.SetTraceID(root.TraceID())
			r.SetSpanID(root.SpanID())
			r.SetTimestamp(root.StartTimestamp())
			r.Attributes().PutStr("anomaly.type", "exfiltration")
			_, err := w.WriteLogs(ctx, ld)
			require.NoError(t, err)
			flagged = append(flagged, archive.TraceHex(root.TraceID()))
		}
	}
	return flagged
}

var anomalyFinderForTest = archive.AnomalyFinder{EventName: "sandbox.anomaly", TypeKey: "anomaly.type", ExtensionKey: "sandbox.extension.id"}

func getSearch(t *testing.T, srv *httptest.Server, path string, params url.Values) (int, []byte, http.Header) {
	t.Helper()
	u := srv.URL + path
	if params != nil {
		u += "?" + params.Encode()
	}
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, body, resp.Header
}

func TestSearchEndpoints(t *testing.T) {
	dir := t.TempDir()
	base := time.Now().Add(-30 * time.Minute).Truncate(time.Second)
	flagged := searchArchive(t, dir, base)
	b, local, err := archive.Open(context.Background(), "file://"+dir, archive.S3Options{})
	require.NoError(t, err)
	defer b.Close()
	srv := httptest.NewServer(Handler(&archive.Reader{Bucket: b, LocalDir: local}))
	defer srv.Close()
	rng := url.Values{"start": {fmt.Sprint(base.Add(-time.Minute).Unix())}, "end": {fmt.Sprint(base.Add(5 * time.Minute).Unix())}}
	with := func(kv ...string) url.Values {
		v := url.Values{}
		for k, vs := range rng {
			v[k] = vs
		}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}

	code, body, _ := getSearch(t, srv, "/api/status/buildinfo", nil)
	require.Equal(t, 200, code)
	var bi pbBuildInfo
	strictDecode(t, body, &bi)
	assert.Equal(t, "2.1.0", bi.Version)

	// Tags: every scope; the virtual attributes listed under span.
	code, body, _ = getSearch(t, srv, "/api/v2/search/tags", with("limit", "5000"))
	require.Equal(t, 200, code, string(body))
	var tags pbSearchTagsV2Response
	strictDecode(t, body, &tags)
	require.Len(t, tags.Scopes, 3)
	byScope := map[string][]string{}
	for _, s := range tags.Scopes {
		byScope[s.Name] = s.Tags
	}
	assert.Contains(t, byScope["span"], "sandwatch.anomaly")
	assert.Contains(t, byScope["span"], "sandwatch.extension")
	assert.Contains(t, byScope["resource"], "service.name")
	assert.Contains(t, byScope["intrinsic"], "traceDuration")
	code, body, _ = getSearch(t, srv, "/api/v2/search/tags", with("scope", "intrinsic"))
	require.Equal(t, 200, code)
	strictDecode(t, body, &tags)
	require.Len(t, tags.Scopes, 1)

	// Tag values, typed.
	code, body, _ = getSearch(t, srv, "/api/v2/search/tag/span.sandwatch.extension/values", with("limit", "5000", "tag", "span.sandwatch.extension"))
	require.Equal(t, 200, code, string(body))
	var vals pbSearchTagValuesV2Response
	strictDecode(t, body, &vals)
	require.Len(t, vals.TagValues, 4)
	for _, v := range vals.TagValues {
		assert.Equal(t, "string", v.Type)
	}
	firstExt := vals.TagValues[0].Value
	code, body, _ = getSearch(t, srv, "/api/v2/search/tag/status/values", nil)
	require.Equal(t, 200, code)
	strictDecode(t, body, &vals)
	assert.Equal(t, "keyword", vals.TagValues[0].Type)
	code, body, _ = getSearch(t, srv, "/api/v2/search/tag/span.sandwatch.anomaly/values", with("q", `{ resource.service.name=`)) // partial q: ignored
	require.Equal(t, 200, code, string(body))
	strictDecode(t, body, &vals)
	require.Len(t, vals.TagValues, 1)
	assert.Equal(t, "exfiltration", vals.TagValues[0].Value)

	// Search: the anomaly query returns exactly the flagged traces, newest first.
	code, body, hdr := getSearch(t, srv, "/api/search", with("q", `{ span.sandwatch.anomaly = "exfiltration" }`, "limit", "20", "spss", "3"))
	require.Equal(t, 200, code, string(body))
	var sr pbSearchResponse
	strictDecode(t, body, &sr)
	var ids []string
	for i, tr := range sr.Traces {
		ids = append(ids, tr.TraceID)
		require.Len(t, tr.SpanSets, 1)
		assert.Equal(t, uint32(1), tr.SpanSets[0].Matched)
		assert.Equal(t, "sandwatch.anomaly", tr.SpanSets[0].Spans[0].Attributes[0].Key)
		if i > 0 {
			assert.GreaterOrEqual(t, sr.Traces[i-1].StartTimeUnixNano, tr.StartTimeUnixNano)
		}
	}
	want := slices.Clone(flagged)
	slices.Reverse(want)
	assert.Equal(t, want, ids)
	assert.Contains(t, hdr.Get("X-Sandwatch-Search"), "inspectedSpans=")

	// By extension: the trace is then opened by id (Grafana's next call).
	code, body, _ = getSearch(t, srv, "/api/search", with("q", fmt.Sprintf(`{span.sandwatch.extension=%q}`, firstExt), "limit", "5"))
	require.Equal(t, 200, code, string(body))
	strictDecode(t, body, &sr)
	require.Len(t, sr.Traces, 5)
	assert.NotEmpty(t, sr.Traces[0].RootServiceName)
	assert.Equal(t, uint32(5), sr.Metrics.InspectedTraces)
	code, _, _ = getSearch(t, srv, "/api/v2/traces/"+sr.Traces[0].TraceID, nil)
	assert.Equal(t, 200, code)

	// Without start/end: the recent window (the archive is 30 min old).
	code, body, _ = getSearch(t, srv, "/api/search", url.Values{"q": {"{}"}})
	require.Equal(t, 200, code)
	strictDecode(t, body, &sr)
	assert.Len(t, sr.Traces, 20)

	// v1 fallbacks.
	code, body, _ = getSearch(t, srv, "/api/search/tags", rng)
	require.Equal(t, 200, code)
	var v1 pbSearchTagsResponse
	strictDecode(t, body, &v1)
	assert.Contains(t, v1.TagNames, "service.name")
	code, body, _ = getSearch(t, srv, "/api/search/tag/service.name/values", rng)
	require.Equal(t, 200, code)
	var v1v pbSearchTagValuesResponse
	strictDecode(t, body, &v1v)
	assert.NotEmpty(t, v1v.TagValues)
}

func TestSearchBadRequests(t *testing.T) {
	dir := t.TempDir()
	b, local, err := archive.Open(context.Background(), "file://"+dir, archive.S3Options{})
	require.NoError(t, err)
	defer b.Close()
	srv := httptest.NewServer(Handler(&archive.Reader{Bucket: b, LocalDir: local}))
	defer srv.Close()
	for _, tc := range []struct {
		path   string
		params url.Values
		want   string
	}{
		{"/api/search", url.Values{"q": {"{} | count() > 2"}}, "pipeline stage count()"},
		{"/api/search", url.Values{"q": {"{} | rate()"}}, "metrics function rate()"},
		{"/api/search", url.Values{"q": {"{ .a = "}}, "unexpected end of query"},
		{"/api/search", url.Values{"q": {"{}"}, "start": {"100"}, "end": {"100"}}, "end (100) must be after start (100)"},
		{"/api/search", url.Values{"q": {"{}"}, "start": {"yesterday"}}, "invalid start"},
		{"/api/search", url.Values{"q": {"{}"}, "limit": {"0"}}, "invalid limit"},
		{"/api/search", url.Values{"q": {"{}"}, "spss": {"-1"}}, "invalid spss"},
		{"/api/search", url.Values{"q": {"{}"}, "tags": {"a=b"}}, "tags and q cannot be combined"},
		{"/api/search", url.Values{"tags": {"a=b"}}, "tag-based search"},
		{"/api/v2/search/tags", url.Values{"scope": {"nope"}}, "invalid scope"},
		{"/api/v2/search/tag/foo/values", nil, "invalid tag"},
	} {
		code, body, _ := getSearch(t, srv, tc.path, tc.params)
		assert.Equal(t, http.StatusBadRequest, code, "%s %v", tc.path, tc.params)
		assert.True(t, strings.Contains(string(body), tc.want), "%s %v: %s", tc.path, tc.params, body)
	}
	// An empty archive answers an empty list, strictly decodable.
	code, body, _ := getSearch(t, srv, "/api/search", url.Values{"q": {"{}"}})
	require.Equal(t, 200, code)
	var sr pbSearchResponse
	strictDecode(t, body, &sr)
	assert.Empty(t, sr.Traces)
}

func TestSearchConfigValidate(t *testing.T) {
	c := defaultSearchConfig()
	require.NoError(t, c.Validate())
	c.MaxLimit, c.RecentWindow, c.Timeout = 0, 0, time.Millisecond
	err := c.Validate()
	for _, f := range []string{"search.max_limit", "search.recent_window", "search.timeout"} {
		assert.ErrorContains(t, err, f)
	}
}
