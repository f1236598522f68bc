package forensicexporter

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/connector/baselineconnector"
	"github.com/sandwatch/sandwatch/internal/archive"
	"github.com/sandwatch/sandwatch/internal/traceql"
)

// An anomaly record as the baseline connector writes it (output.go) is
// indexed by its trace id when the exporter archives it.
func TestAnomalyEventsIndexed(t *testing.T) {
	dir := t.TempDir()
	cfg := createDefaultConfig().(*Config)
	cfg.Store = "file://" + dir
	cfg.QueueConfig = configoptional.None[QueueBatchConfigAlias]()
	set, _ := testSettings(t)
	le, err := NewFactory().CreateLogs(context.Background(), set, cfg)
	require.NoError(t, err)
	require.NoError(t, le.Start(context.Background(), componenttest.NewNopHost()))

	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "sandwatch")
	r := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	r.SetEventName("sandbox.anomaly")
	r.SetTraceID(pcommon.TraceID{0xab, 1})
	r.SetSpanID(pcommon.SpanID{0xcd, 2})
	r.SetSeverityText("critical")
	r.Attributes().PutStr("anomaly.type", "exfiltration")
	r.Attributes().PutStr("sandbox.extension.id", "weather-001")
	require.NoError(t, le.ConsumeLogs(context.Background(), ld))
	require.NoError(t, le.Shutdown(context.Background()))

	b, local, err := archive.Open(context.Background(), "file://"+dir, archive.S3Options{})
	require.NoError(t, err)
	defer b.Close()
	var got []archive.AnomalyEntry
	require.NoError(t, (&archive.Reader{Bucket: b, LocalDir: local}).Anomalies(context.Background(), archive.Window{},
		func(a archive.AnomalyEntry) error { got = append(got, a); return nil }))
	require.Len(t, got, 1)
	require.Equal(t, "ab010000000000000000000000000000", got[0].TraceID)
	require.Equal(t, "cd02000000000000", got[0].SpanID)
	require.Equal(t, "exfiltration", got[0].Type)
	require.Equal(t, "weather-001", got[0].Extension)
	require.Equal(t, "critical", got[0].Severity)
}

// The traces an anomaly event names besides its own (the repeats a dedup
// summary folded, a chain's related read, the candidates of an
// unreported access; the attribute names of the baseline connector) are
// indexed under its type, so search returns every one of them and no
// other trace.
func TestLinkedTracesSearchable(t *testing.T) {
	dir := t.TempDir()
	cfg := createDefaultConfig().(*Config)
	cfg.Store = "file://" + dir
	cfg.QueueConfig = configoptional.None[QueueBatchConfigAlias]()
	set, _ := testSettings(t)
	te, err := NewFactory().CreateTraces(context.Background(), set, cfg)
	require.NoError(t, err)
	le, err := NewFactory().CreateLogs(context.Background(), set, cfg)
	require.NoError(t, err)
	require.NoError(t, te.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, le.Start(context.Background(), componenttest.NewNopHost()))

	trace := func(n byte) pcommon.TraceID { return pcommon.TraceID{0x5a, n} }
	now := time.Now()
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "weather-001")
	for n := byte(1); n <= 9; n++ { // 9 is named by no event
		sp := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		sp.SetTraceID(trace(n))
		sp.SetSpanID(pcommon.SpanID{n})
		sp.SetName("invoke")
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(now.Add(-time.Duration(n) * time.Second)))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(now.Add(-time.Duration(n)*time.Second + time.Millisecond)))
	}
	require.NoError(t, te.ConsumeTraces(context.Background(), td))

	ld := plog.NewLogs()
	recs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	event := func(typ string, own pcommon.TraceID) pcommon.Map {
		r := recs.AppendEmpty()
		r.SetEventName(baselineconnector.EventName)
		r.SetTraceID(own)
		r.SetSpanID(pcommon.SpanID{own[1]})
		r.SetTimestamp(pcommon.NewTimestampFromTime(now))
		r.Attributes().PutStr(baselineconnector.AttrType, typ)
		r.Attributes().PutStr(baselineconnector.AttrExt, "weather-001")
		return r.Attributes()
	}
	ids := func(m pcommon.Map, key string, ids ...string) {
		s := m.PutEmptySlice(key)
		for _, id := range ids {
			s.AppendEmpty().SetStr(id)
		}
	}
	hex := func(n byte) string { return archive.TraceHex(trace(n)) }
	ids(event("volume_spike", trace(1)), baselineconnector.AttrFoldedTraces, hex(2), hex(3), "not-a-trace-id")
	// The candidates include the event's own trace (the latest started).
	ids(event("unreported_access", trace(4)), baselineconnector.AttrCandidates, hex(5), hex(4), hex(6))
	event("cross_tool_exfiltration", trace(7)).PutStr(baselineconnector.AttrRelatedTrace, hex(8))
	require.NoError(t, le.ConsumeLogs(context.Background(), ld))
	require.NoError(t, te.Shutdown(context.Background()))
	require.NoError(t, le.Shutdown(context.Background()))

	b, local, err := archive.Open(context.Background(), "file://"+dir, archive.S3Options{})
	require.NoError(t, err)
	defer b.Close()
	r := &archive.Reader{Bucket: b, LocalDir: local}
	roles := map[string]string{}
	require.NoError(t, r.Anomalies(context.Background(), archive.Window{}, func(a archive.AnomalyEntry) error {
		roles[a.TraceID] = a.Type + "/" + a.Role
		return nil
	}))
	require.Equal(t, map[string]string{
		hex(1): "volume_spike/", hex(2): "volume_spike/folded", hex(3): "volume_spike/folded",
		hex(4): "unreported_access/", hex(5): "unreported_access/candidate", hex(6): "unreported_access/candidate",
		hex(7): "cross_tool_exfiltration/", hex(8): "cross_tool_exfiltration/related",
	}, roles)

	for typ, want := range map[string][]string{
		"volume_spike":            {hex(1), hex(2), hex(3)},
		"unreported_access":       {hex(4), hex(5), hex(6)},
		"cross_tool_exfiltration": {hex(7), hex(8)},
	} {
		q, err := traceql.Parse(`{ span.sandwatch.anomaly = "` + typ + `" }`)
		require.NoError(t, err)
		res, err := r.Search(context.Background(), archive.SearchRequest{Query: q,
			Start: now.Add(-time.Hour), End: now.Add(time.Hour), Limit: 20})
		require.NoError(t, err)
		var got []string
		for _, m := range res.Traces {
			got = append(got, m.TraceID)
		}
		require.Equal(t, want, got, typ) // newest first: the traces start 1 s apart
		require.Empty(t, res.Partial)
	}
}
