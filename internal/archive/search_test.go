package archive_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"gocloud.dev/blob/fileblob"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/archive"
	"github.com/sandwatch/sandwatch/internal/traceql"
	"github.com/sandwatch/sandwatch/test/testutil"
)

func newSyntheticArchive(t testing.TB, g synthetic) *archive.Reader {
	dir := t.TempDir()
	b, err := fileblob.OpenBucket(dir, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	w := &archive.Writer{Bucket: b, Format: g.Format}
	require.NoError(t, g.write(context.Background(), w))
	return &archive.Reader{Bucket: b, LocalDir: dir}
}

func TestSearchMatchesBruteForce(t *testing.T) {
	base := time.Date(2026, 11, 30, 22, 30, 0, 0, time.UTC)
	g := synthetic{Traces: 1500, Per: 100, Exts: 7, Base: base, Step: 3 * time.Second, EvilEvery: 37, ErrEvery: 11, Format: archive.DefaultFormat}
	r := newSyntheticArchive(t, g)
	brute, err := testutil.LoadBruteForce(context.Background(), r)
	require.NoError(t, err)
	all := [2]time.Time{base.Add(-time.Hour), base.Add(3 * time.Hour)}
	narrow := [2]time.Time{base.Add(10 * time.Minute), base.Add(20 * time.Minute)}
	for _, tc := range []struct {
		q      string
		window [2]time.Time
		limit  int
	}{
		{`{}`, all, 20},
		{`{}`, narrow, 500},
		{`{ span.sandwatch.extension = "ext-003" }`, all, 20},
		{`{ span.sandwatch.extension = "ext-003" }`, narrow, 1000},
		{`{ .sandwatch.extension =~ "ext-00[12]" && name = "FileReadBlock" }`, all, 50},
		{`{ span.sandwatch.anomaly = "exfiltration" }`, all, 20},
		{`{ span.sandwatch.anomaly = "exfiltration" }`, all, 1000},
		{`{ span.sandwatch.anomaly = "exfiltration" }`, narrow, 1000},
		{`{ span.sandwatch.extension = "ext-000" } && { span.sandwatch.anomaly = "exfiltration" }`, all, 1000},
		{`{ span.sandwatch.extension = "ext-000" && span.sandwatch.anomaly != nil }`, all, 1000},
		{`{ span.server.address = "paste.evil.example" }`, all, 30},
		{`{ span.http.status_code >= 500 && kind = client }`, all, 40},
		{`{ kind = server } >> { status = error }`, all, 40},
		{`{ .fs.path = "/data/5.json" }`, narrow, 100},
		{`{ rootName = "invoke" && duration > 44ms && resource.service.name = "goose" }`, all, 25},
		{`{ span.server.address = "nowhere.example" }`, all, 20},
		{`{ .sandwatch.anomaly = "exfiltration" } || { span.http.status_code = 500 }`, all, 60},
	} {
		q, err := traceql.Parse(tc.q)
		require.NoError(t, err, tc.q)
		want := brute.Search(q, tc.window[0], tc.window[1], tc.limit)
		res, err := r.Search(context.Background(), archive.SearchRequest{Query: q, Start: tc.window[0], End: tc.window[1], Limit: tc.limit, SpansPerSet: 3})
		require.NoError(t, err, tc.q)
		require.Empty(t, res.Partial)
		got := make([]archive.TraceMatch, len(res.Traces))
		for i, m := range res.Traces {
			require.LessOrEqual(t, len(m.Spans), 3)
			require.Equal(t, min(m.Matched, 3), len(m.Spans))
			got[i] = archive.TraceMatch{TraceID: m.TraceID, Start: m.Start, Duration: m.Duration, Matched: m.Matched, RootName: m.RootName}
		}
		require.Equal(t, want, got, "%s (%d found)", tc.q, len(want))
		t.Logf("%-90s %3d traces; metrics %+v", tc.q, len(got), res.Metrics)
	}
}

func TestSearchPrunesByIndex(t *testing.T) {
	base := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	g := synthetic{Traces: 2000, Per: 200, Exts: 10, Base: base, Step: time.Second, EvilEvery: 97, ErrEvery: 11, Format: archive.DefaultFormat}
	r := newSyntheticArchive(t, g)
	ctx := context.Background()
	q, _ := traceql.Parse(`{ span.sandwatch.extension = "ext-004" }`)
	res, err := r.Search(ctx, archive.SearchRequest{Query: q, Start: base, End: base.Add(time.Hour), Limit: 5})
	require.NoError(t, err)
	require.Len(t, res.Traces, 5)
	// Only the newest catalogs are read, and only the results' traces are
	// evaluated: every other trace was ruled out by the catalog.
	require.Less(t, res.Metrics.CatalogsRead, res.Metrics.Catalogs)
	require.Equal(t, 5, res.Metrics.InspectedTraces)
	require.Positive(t, res.Metrics.PrunedByIndex)
	require.Positive(t, res.Metrics.PagesNotRead)

	// A value no page holds: pages are read but none decoded.
	q, _ = traceql.Parse(`{ span.server.address = "nowhere.example" }`)
	res, err = r.Search(ctx, archive.SearchRequest{Query: q, Start: base, End: base.Add(time.Hour), Limit: 5})
	require.NoError(t, err)
	require.Empty(t, res.Traces)
	require.Zero(t, res.Metrics.PagesDecoded)
	require.Positive(t, res.Metrics.PagesSkipped)

	// The anomaly index answers without the catalogs.
	q, _ = traceql.Parse(`{ span.sandwatch.anomaly = "exfiltration" }`)
	res, err = r.Search(ctx, archive.SearchRequest{Query: q, Start: base, End: base.Add(time.Hour), Limit: 3})
	require.NoError(t, err)
	require.Len(t, res.Traces, 3)
	require.Zero(t, res.Metrics.CatalogsRead)
	require.Equal(t, 3, res.Metrics.InspectedTraces)
	// The reader keeps the (immutable) anomaly index objects: a repeated
	// search reads only pages, with the same answer.
	again, err := r.Search(ctx, archive.SearchRequest{Query: q, Start: base, End: base.Add(time.Hour), Limit: 3})
	require.NoError(t, err)
	require.Equal(t, res.Traces, again.Traces)
	require.Equal(t, res.Metrics.AnomalyObjects, again.Metrics.AnomalyObjects)
	require.Less(t, again.Metrics.InspectedBytes, res.Metrics.InspectedBytes)
}

func TestSearchStopsAtByteBudget(t *testing.T) {
	base := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	r := newSyntheticArchive(t, synthetic{Traces: 1000, Per: 100, Exts: 3, Base: base, Step: time.Second, Format: archive.DefaultFormat})
	q, _ := traceql.Parse(`{ span.http.status_code = 404 }`)
	res, err := r.Search(context.Background(), archive.SearchRequest{Query: q, Start: base, End: base.Add(time.Hour), Limit: 5, MaxBytes: 20000})
	require.NoError(t, err)
	require.Equal(t, "byte limit reached", res.Partial)
	require.Less(t, res.Metrics.CatalogsRead, res.Metrics.Catalogs)
}

func TestAnomalyIndexWrittenAndPruned(t *testing.T) {
	base := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	r := newSyntheticArchive(t, synthetic{Traces: 300, Per: 100, Exts: 3, Base: base, Step: time.Second, EvilEvery: 50, Format: archive.DefaultFormat})
	ctx := context.Background()
	var got []archive.AnomalyEntry
	require.NoError(t, r.Anomalies(ctx, archive.Window{}, func(a archive.AnomalyEntry) error { got = append(got, a); return nil }))
	require.Len(t, got, 6) // traces 0, 50, ..., 250
	for _, a := range got {
		require.Equal(t, "exfiltration", a.Type)
		require.Equal(t, "critical", a.Severity)
		require.NotEmpty(t, a.SpanID)
		require.NotZero(t, a.Written)
	}
	require.Equal(t, archive.TraceHex(genTraceID(0)), got[0].TraceID)
	require.Equal(t, "ext-000", got[0].Extension)
	st, err := r.Prune(ctx, base.Add(24*time.Hour))
	require.NoError(t, err)
	require.Positive(t, st.IndexObjects)
	got = nil
	require.NoError(t, r.Anomalies(ctx, archive.Window{}, func(a archive.AnomalyEntry) error { got = append(got, a); return nil }))
	require.Empty(t, got)
}

func TestAnomalyFinderIgnoresOtherRecords(t *testing.T) {
	f := archive.AnomalyFinder{EventName: "sandbox.anomaly", TypeKey: "anomaly.type", ExtensionKey: "sandbox.extension.id"}
	ld := plog.NewLogs()
	recs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	plain := recs.AppendEmpty() // mentions the event name in its body only
	plain.Body().SetStr("sandbox.anomaly")
	plain.SetTraceID(genTraceID(1))
	noTrace := recs.AppendEmpty()
	noTrace.SetEventName("sandbox.anomaly")
	noTrace.Attributes().PutStr("anomaly.type", "recon")
	ok := recs.AppendEmpty()
	ok.SetEventName("sandbox.anomaly")
	ok.SetTraceID(genTraceID(2))
	ok.Attributes().PutStr("anomaly.type", "recon")
	b, err := archive.EncodeLogs(ld, archive.Extensions{})
	require.NoError(t, err)
	got := f.Find(b)
	require.Len(t, got, 1)
	require.Equal(t, archive.AnomalyEntry{TraceID: archive.TraceHex(genTraceID(2)), Type: "recon"}, got[0])
	td := ptrace.NewTraces()
	td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty().SetTraceID(genTraceID(3))
	spans, err := archive.EncodeTraces(td, archive.Extensions{})
	require.NoError(t, err)
	require.Nil(t, f.Find(spans))
}
