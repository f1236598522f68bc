package archive

import (
	"cmp"
	"context"
	"encoding/hex"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"gocloud.dev/blob/fileblob"

	"github.com/sandwatch/sandwatch/internal/traceql"
)

// bruteForce answers a search the slow way, through other paths than
// Search: every trace id of the catalogs, fetched whole by trace-by-id
// (the lookup runs), the virtual attributes applied as documented,
// every trace evaluated, sorted newest first.
type bruteTrace struct {
	id   string
	t    *traceql.Trace
	s, e uint64
}

func loadBrute(t *testing.T, r *Reader) []bruteTrace {
	ctx := context.Background()
	exts := map[string][]string{}
	require.NoError(t, r.Entries(ctx, Window{}, func(e IndexEntry) error {
		if e.TraceID != "" && e.Kind == KindSpans {
			if _, ok := exts[e.TraceID]; !ok {
				exts[e.TraceID] = nil
			}
			if e.Extension != "" && !slices.Contains(exts[e.TraceID], e.Extension) {
				exts[e.TraceID] = append(exts[e.TraceID], e.Extension)
			}
		}
		return nil
	}))
	anomalies := map[string][]AnomalyEntry{}
	require.NoError(t, r.Anomalies(ctx, Window{}, func(a AnomalyEntry) error {
		anomalies[a.TraceID] = append(anomalies[a.TraceID], a)
		return nil
	}))
	var out []bruteTrace
	for id, ex := range exts {
		tid, err := ParseTraceID(id)
		require.NoError(t, err)
		got, err := r.Get(ctx, tid)
		require.NoError(t, err)
		tr := &traceql.Trace{}
		for _, rs := range got.Traces.ResourceSpans().All() {
			for _, ss := range rs.ScopeSpans().All() {
				for _, sp := range ss.Spans().All() {
					tr.Spans = append(tr.Spans, traceql.Span{Span: sp, Resource: rs.Resource()})
				}
			}
		}
		tr.Link()
		slices.Sort(ex)
		rootIdx := -1
		for i := range tr.Spans {
			if len(ex) > 0 {
				tr.Spans[i].Virtual = map[string][]string{AttrExtension: ex}
			}
			if rootIdx < 0 && tr.Spans[i].Span.ParentSpanID().IsEmpty() {
				rootIdx = i
			}
		}
		for _, a := range anomalies[id] {
			at := max(rootIdx, 0)
			for i := range tr.Spans {
				sid := tr.Spans[i].Span.SpanID()
				if hex.EncodeToString(sid[:]) == a.SpanID {
					at = i
				}
			}
			v := map[string][]string{}
			for k, vs := range tr.Spans[at].Virtual {
				v[k] = vs
			}
			if !slices.Contains(v[AttrAnomaly], a.Type) {
				v[AttrAnomaly] = append(slices.Clone(v[AttrAnomaly]), a.Type)
			}
			tr.Spans[at].Virtual = v
		}
		var s, e uint64
		for _, sp := range tr.Spans {
			st := uint64(sp.Span.StartTimestamp())
			if s == 0 || st < s {
				s = st
			}
			e = max(e, uint64(sp.Span.EndTimestamp()))
		}
		out = append(out, bruteTrace{id: id, t: tr, s: s, e: e})
	}
	return out
}

func bruteForce(all []bruteTrace, q *traceql.Query, start, end time.Time, limit int) []TraceMatch {
	out := []TraceMatch{}
	for _, b := range all {
		if b.e < uint64(start.UnixNano()) || b.s > uint64(end.UnixNano()) {
			continue
		}
		if m := q.Match(b.t); len(m) > 0 {
			out = append(out, TraceMatch{TraceID: b.id, Start: b.s, Duration: b.e - b.s, Matched: len(m), RootName: b.t.RootName})
		}
	}
	slices.SortFunc(out, func(a, b TraceMatch) int {
		return cmp.Or(cmp.Compare(b.Start, a.Start), cmp.Compare(a.TraceID, b.TraceID))
	})
	return out[:min(limit, len(out))]
}

func newSyntheticArchive(t testing.TB, g synthetic) *Reader {
	dir := t.TempDir()
	b, err := fileblob.OpenBucket(dir, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	w := &Writer{Bucket: b, Format: g.Format}
	require.NoError(t, g.write(context.Background(), w))
	return &Reader{Bucket: b, LocalDir: dir}
}

func TestSearchMatchesBruteForce(t *testing.T) {
	base := time.Date(2026, 11, 30, 22, 30, 0, 0, time.UTC)
	g := synthetic{Traces: 1500, Per: 100, Exts: 7, Base: base, Step: 3 * time.Second, EvilEvery: 37, ErrEvery: 11, Format: DefaultFormat}
	r := newSyntheticArchive(t, g)
	brute := loadBrute(t, r)
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
		want := bruteForce(brute, q, tc.window[0], tc.window[1], tc.limit)
		res, err := r.Search(context.Background(), SearchRequest{Query: q, Start: tc.window[0], End: tc.window[1], Limit: tc.limit, SpansPerSet: 3})
		require.NoError(t, err, tc.q)
		require.Empty(t, res.Partial)
		got := make([]TraceMatch, len(res.Traces))
		for i, m := range res.Traces {
			require.LessOrEqual(t, len(m.Spans), 3)
			require.Equal(t, min(m.Matched, 3), len(m.Spans))
			got[i] = TraceMatch{TraceID: m.TraceID, Start: m.Start, Duration: m.Duration, Matched: m.Matched, RootName: m.RootName}
		}
		require.Equal(t, want, got, "%s (%d found)", tc.q, len(want))
		t.Logf("%-90s %3d traces; metrics %+v", tc.q, len(got), res.Metrics)
	}
}

func TestSearchPrunesByIndex(t *testing.T) {
	base := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	g := synthetic{Traces: 2000, Per: 200, Exts: 10, Base: base, Step: time.Second, EvilEvery: 97, ErrEvery: 11, Format: DefaultFormat}
	r := newSyntheticArchive(t, g)
	ctx := context.Background()
	q, _ := traceql.Parse(`{ span.sandwatch.extension = "ext-004" }`)
	res, err := r.Search(ctx, SearchRequest{Query: q, Start: base, End: base.Add(time.Hour), Limit: 5})
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
	res, err = r.Search(ctx, SearchRequest{Query: q, Start: base, End: base.Add(time.Hour), Limit: 5})
	require.NoError(t, err)
	require.Empty(t, res.Traces)
	require.Zero(t, res.Metrics.PagesDecoded)
	require.Positive(t, res.Metrics.PagesSkipped)

	// The anomaly index answers without the catalogs.
	q, _ = traceql.Parse(`{ span.sandwatch.anomaly = "exfiltration" }`)
	res, err = r.Search(ctx, SearchRequest{Query: q, Start: base, End: base.Add(time.Hour), Limit: 3})
	require.NoError(t, err)
	require.Len(t, res.Traces, 3)
	require.Zero(t, res.Metrics.CatalogsRead)
	require.Equal(t, 3, res.Metrics.InspectedTraces)
}

func TestSearchStopsAtByteBudget(t *testing.T) {
	base := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	r := newSyntheticArchive(t, synthetic{Traces: 1000, Per: 100, Exts: 3, Base: base, Step: time.Second, Format: DefaultFormat})
	q, _ := traceql.Parse(`{ span.http.status_code = 404 }`)
	res, err := r.Search(context.Background(), SearchRequest{Query: q, Start: base, End: base.Add(time.Hour), Limit: 5, MaxBytes: 20000})
	require.NoError(t, err)
	require.Equal(t, "byte limit reached", res.Partial)
	require.Less(t, res.Metrics.CatalogsRead, res.Metrics.Catalogs)
}

func TestAnomalyIndexWrittenAndPruned(t *testing.T) {
	base := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	r := newSyntheticArchive(t, synthetic{Traces: 300, Per: 100, Exts: 3, Base: base, Step: time.Second, EvilEvery: 50, Format: DefaultFormat})
	ctx := context.Background()
	var got []AnomalyEntry
	require.NoError(t, r.Anomalies(ctx, Window{}, func(a AnomalyEntry) error { got = append(got, a); return nil }))
	require.Len(t, got, 6) // traces 0, 50, ..., 250
	for _, a := range got {
		require.Equal(t, "exfiltration", a.Type)
		require.Equal(t, "critical", a.Severity)
		require.NotEmpty(t, a.SpanID)
		require.NotZero(t, a.Written)
	}
	require.Equal(t, TraceHex(genTraceID(0)), got[0].TraceID)
	require.Equal(t, "ext-000", got[0].Extension)
	st, err := r.Prune(ctx, base.Add(24*time.Hour))
	require.NoError(t, err)
	require.Positive(t, st.IndexObjects)
	got = nil
	require.NoError(t, r.Anomalies(ctx, Window{}, func(a AnomalyEntry) error { got = append(got, a); return nil }))
	require.Empty(t, got)
}

func TestAnomalyFinderIgnoresOtherRecords(t *testing.T) {
	f := AnomalyFinder{EventName: "sandbox.anomaly", TypeKey: "anomaly.type", ExtensionKey: "sandbox.extension.id"}
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
	b, err := EncodeLogs(ld, Extensions{})
	require.NoError(t, err)
	got := f.Find(b)
	require.Len(t, got, 1)
	require.Equal(t, AnomalyEntry{TraceID: TraceHex(genTraceID(2)), Type: "recon"}, got[0])
	spans, err := EncodeTraces(testTraces(), Extensions{})
	require.NoError(t, err)
	require.Nil(t, f.Find(spans))
}
