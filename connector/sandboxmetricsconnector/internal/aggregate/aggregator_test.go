package aggregate

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/sandwatch/sandwatch/internal/sandboxevent"
)

const sec = int64(time.Second)

func testConfig() Config {
	return Config{MaxSeries: 100, MaxExemplars: 2, Bounds: []float64{0.01, 0.1, 1}}
}

func collect(a *Aggregator, now int64) pmetric.MetricSlice {
	ms := pmetric.NewMetricSlice()
	a.Collect(now, ms)
	return ms
}

func metricByName(ms pmetric.MetricSlice, name string) (pmetric.Metric, bool) {
	for i := 0; i < ms.Len(); i++ {
		if ms.At(i).Name() == name {
			return ms.At(i), true
		}
	}
	return pmetric.Metric{}, false
}

// sumPoints maps "k=v,k=v" attribute strings to the sum value.
func sumPoints(t *testing.T, ms pmetric.MetricSlice, name string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	m, ok := metricByName(ms, name)
	if !ok {
		return out
	}
	dps := m.Sum().DataPoints()
	for i := 0; i < dps.Len(); i++ {
		out[attrKey(dps.At(i).Attributes())] = dps.At(i).IntValue()
	}
	return out
}

func attrKey(m pcommon.Map) string {
	var parts []string
	for k, v := range m.All() {
		parts = append(parts, k+"="+v.AsString())
	}
	// pcommon.Map keeps insertion order, which the aggregator fixes.
	return strings.Join(parts, ",")
}

func fsEvent(ext string, outcome sandboxevent.Outcome) *sandboxevent.Event {
	ev := &sandboxevent.Event{ExtensionID: ext, Kind: sandboxevent.KindFS, Outcome: outcome, Target: "/etc/shadow", TargetType: sandboxevent.TargetPath}
	if outcome == sandboxevent.OutcomeError {
		ev.ErrorCode = "EACCES"
	}
	return ev
}

func TestRecordSpanSeries(t *testing.T) {
	a := New(testConfig(), 0)
	ex := Exemplar{TraceID: pcommon.TraceID{1}, SpanID: pcommon.SpanID{2}, Time: 5}
	a.RecordSpan(&sandboxevent.Event{ExtensionID: "e1"}, &Span{Root: true, Duration: 0.5, Exemplar: ex}, 1)
	a.RecordSpan(fsEvent("e1", sandboxevent.OutcomeOK), &Span{Duration: 0.005, Exemplar: ex}, 1)
	a.RecordSpan(fsEvent("e1", sandboxevent.OutcomeError), &Span{Duration: 0.05, Exemplar: ex}, 1)
	a.RecordSpan(&sandboxevent.Event{ExtensionID: "e1", Kind: sandboxevent.KindHTTP, StatusCode: 503, Outcome: sandboxevent.OutcomeError,
		Operation: "POST", Target: "x.example", TargetType: sandboxevent.TargetHost}, &Span{Duration: 2}, 1)
	a.RecordSpan(&sandboxevent.Event{ExtensionID: "e1", Kind: sandboxevent.KindHTTP, Decision: "denied", Outcome: sandboxevent.OutcomeDenied,
		Target: "10.0.0.5", TargetType: sandboxevent.TargetHost}, &Span{Duration: 0.001}, 1)
	ms := collect(a, 10*sec)

	assert.Equal(t, map[string]int64{
		"extension=e1,kind=fs,outcome=ok":       1,
		"extension=e1,kind=fs,outcome=error":    1,
		"extension=e1,kind=http,outcome=error":  1,
		"extension=e1,kind=http,outcome=denied": 1,
	}, sumPoints(t, ms, "sandbox.operations"), "the root wrapper span is an invocation, not an operation")
	assert.Equal(t, map[string]int64{
		"extension=e1,kind=fs,error_class=EACCES":     1,
		"extension=e1,kind=http,error_class=http_5xx": 1,
	}, sumPoints(t, ms, "sandbox.errors"))
	assert.Equal(t, map[string]int64{"extension=e1,status_class=5xx": 1}, sumPoints(t, ms, "sandbox.http.responses"))
	assert.Equal(t, map[string]int64{"extension=e1,capability=http,decision=denied": 1}, sumPoints(t, ms, "sandbox.capability.decisions"))
	assert.Equal(t, map[string]int64{"extension=e1,outcome=ok": 1}, sumPoints(t, ms, "sandbox.invocations"))
	assert.Equal(t, map[string]int64{"extension=e1,kind=http": 1}, sumPoints(t, ms, "sandbox.egress.operations"))
	_, hasTargets := metricByName(ms, "sandbox.target.operations")
	assert.False(t, hasTargets, "targets are opt-in")

	m, ok := metricByName(ms, "sandbox.operation.duration")
	require.True(t, ok)
	assert.Equal(t, pmetric.AggregationTemporalityCumulative, m.Histogram().AggregationTemporality())
	found := false
	for i := 0; i < m.Histogram().DataPoints().Len(); i++ {
		dp := m.Histogram().DataPoints().At(i)
		if attrKey(dp.Attributes()) != "extension=e1,kind=fs" {
			continue
		}
		found = true
		assert.Equal(t, uint64(2), dp.Count())
		assert.InDelta(t, 0.055, dp.Sum(), 1e-9)
		assert.Equal(t, []float64{0.01, 0.1, 1}, dp.ExplicitBounds().AsRaw())
		assert.Equal(t, []uint64{1, 1, 0, 0}, dp.BucketCounts().AsRaw())
		assert.Equal(t, 0.005, dp.Min())
		assert.Equal(t, 0.05, dp.Max())
		require.Equal(t, 2, dp.Exemplars().Len())
		assert.Equal(t, pcommon.TraceID{1}, dp.Exemplars().At(0).TraceID())
		assert.Equal(t, pcommon.SpanID{2}, dp.Exemplars().At(0).SpanID())
		assert.Equal(t, 0.005, dp.Exemplars().At(0).DoubleValue())
		assert.Equal(t, 0.05, dp.Exemplars().At(1).DoubleValue())
		assert.Equal(t, pcommon.Timestamp(10*sec), dp.Timestamp())
	}
	assert.True(t, found)
}

func TestExemplarsRingKeepsLatest(t *testing.T) {
	a := New(testConfig(), 0)
	for i := 1; i <= 5; i++ {
		a.RecordSpan(fsEvent("e", sandboxevent.OutcomeOK), &Span{Duration: float64(i), Exemplar: Exemplar{SpanID: pcommon.SpanID{byte(i)}}}, 1)
	}
	ms := collect(a, 2)
	m, _ := metricByName(ms, "sandbox.operations")
	exs := m.Sum().DataPoints().At(0).Exemplars()
	require.Equal(t, 2, exs.Len())
	assert.Equal(t, pcommon.SpanID{4}, exs.At(0).SpanID())
	assert.Equal(t, pcommon.SpanID{5}, exs.At(1).SpanID())
	assert.Equal(t, int64(1), exs.At(0).IntValue())
	// Exemplars belong to one interval.
	ms = collect(a, 3)
	m, _ = metricByName(ms, "sandbox.operations")
	assert.Equal(t, 0, m.Sum().DataPoints().At(0).Exemplars().Len())
	assert.Equal(t, int64(5), m.Sum().DataPoints().At(0).IntValue())
}

func TestOverflowFolding(t *testing.T) {
	cfg := testConfig()
	cfg.MaxSeries = 3
	a := New(cfg, 0)
	for i := 0; i < 10; i++ {
		a.RecordSpan(fsEvent(fmt.Sprintf("ext-%d", i), sandboxevent.OutcomeOK), &Span{}, 1)
	}
	// Known series keep counting after the cap is reached.
	a.RecordSpan(fsEvent("ext-0", sandboxevent.OutcomeOK), &Span{}, 1)
	st := a.Stats()
	assert.Equal(t, uint64(7*2), st.Overflowed, "7 events folded in operations and in duration")
	ms := collect(a, 2)
	got := sumPoints(t, ms, "sandbox.operations")
	assert.Equal(t, map[string]int64{
		"extension=ext-0,kind=fs,outcome=ok": 2,
		"extension=ext-1,kind=fs,outcome=ok": 1,
		"extension=ext-2,kind=fs,outcome=ok": 1,
		"otel.metric.overflow=true":          7,
	}, got)
	m, _ := metricByName(ms, "sandbox.operation.duration")
	assert.Equal(t, 4, m.Histogram().DataPoints().Len())
}

func TestExpiryFreesRoomUnderTheCap(t *testing.T) {
	cfg := testConfig()
	cfg.MaxSeries = 2
	cfg.Expiry = 10 * sec
	a := New(cfg, 0)
	a.RecordSpan(fsEvent("old", sandboxevent.OutcomeOK), &Span{}, 1*sec)
	a.RecordSpan(fsEvent("live", sandboxevent.OutcomeOK), &Span{}, 1*sec)
	collect(a, 5*sec)
	a.RecordSpan(fsEvent("live", sandboxevent.OutcomeOK), &Span{}, 14*sec)
	collect(a, 15*sec) // "old" idle for 14s > 10s: emitted one last time, then removed
	assert.Equal(t, 1+1, a.Stats().Series, "live in operations and duration")
	a.RecordSpan(fsEvent("new", sandboxevent.OutcomeOK), &Span{}, 16*sec)
	ms := collect(a, 17*sec)
	assert.Equal(t, map[string]int64{
		"extension=live,kind=fs,outcome=ok": 2,
		"extension=new,kind=fs,outcome=ok":  1,
	}, sumPoints(t, ms, "sandbox.operations"), "the expired series' slot went to a new one, nothing overflowed")
	m, _ := metricByName(ms, "sandbox.operations")
	for i := 0; i < m.Sum().DataPoints().Len(); i++ {
		dp := m.Sum().DataPoints().At(i)
		if attrKey(dp.Attributes()) == "extension=new,kind=fs,outcome=ok" {
			assert.Equal(t, pcommon.Timestamp(16*sec), dp.StartTimestamp())
		}
	}
}

func TestDeltaVersusCumulative(t *testing.T) {
	for _, delta := range []bool{false, true} {
		t.Run(fmt.Sprintf("delta=%v", delta), func(t *testing.T) {
			cfg := testConfig()
			cfg.Delta = delta
			a := New(cfg, 0)
			a.RecordSpan(fsEvent("a", sandboxevent.OutcomeOK), &Span{Duration: 0.5}, 1*sec)
			a.RecordSpan(fsEvent("b", sandboxevent.OutcomeOK), &Span{Duration: 0.5}, 1*sec)
			collect(a, 2*sec)
			a.RecordSpan(fsEvent("a", sandboxevent.OutcomeOK), &Span{Duration: 0.5}, 3*sec)
			ms := collect(a, 4*sec)
			m, _ := metricByName(ms, "sandbox.operations")
			h, _ := metricByName(ms, "sandbox.operation.duration")
			dp := m.Sum().DataPoints()
			if delta {
				assert.Equal(t, pmetric.AggregationTemporalityDelta, m.Sum().AggregationTemporality())
				assert.Equal(t, map[string]int64{"extension=a,kind=fs,outcome=ok": 1}, sumPoints(t, ms, "sandbox.operations"), "idle b is not sent")
				assert.Equal(t, pcommon.Timestamp(2*sec), dp.At(0).StartTimestamp())
				assert.Equal(t, uint64(1), h.Histogram().DataPoints().At(0).Count())
			} else {
				assert.Equal(t, pmetric.AggregationTemporalityCumulative, m.Sum().AggregationTemporality())
				assert.Equal(t, map[string]int64{"extension=a,kind=fs,outcome=ok": 2, "extension=b,kind=fs,outcome=ok": 1}, sumPoints(t, ms, "sandbox.operations"))
				assert.Equal(t, pcommon.Timestamp(1*sec), dp.At(0).StartTimestamp())
				assert.Equal(t, 2, h.Histogram().DataPoints().Len())
			}
		})
	}
}

func TestUnattributedAndUnknownExtension(t *testing.T) {
	a := New(testConfig(), 0)
	a.RecordSpan(fsEvent("", sandboxevent.OutcomeOK), &Span{}, 1)
	assert.Equal(t, uint64(1), a.Stats().Unattributed)
	assert.Empty(t, sumPoints(t, collect(a, 2), "sandbox.operations"))

	cfg := testConfig()
	cfg.UnknownExtension = "unknown"
	a = New(cfg, 0)
	a.RecordSpan(fsEvent("", sandboxevent.OutcomeOK), &Span{}, 1)
	assert.Equal(t, map[string]int64{"extension=unknown,kind=fs,outcome=ok": 1}, sumPoints(t, collect(a, 2), "sandbox.operations"))
}

func TestTargetsOptInTopK(t *testing.T) {
	cfg := testConfig()
	cfg.TargetTypes = []sandboxevent.TargetType{sandboxevent.TargetHost}
	cfg.TopK = 2
	a := New(cfg, 0)
	for _, h := range []string{"a.example", "b.example", "c.example", "a.example"} {
		a.RecordSpan(&sandboxevent.Event{ExtensionID: "e", Kind: sandboxevent.KindHTTP, Target: h, TargetType: sandboxevent.TargetHost}, &Span{}, 1)
	}
	a.RecordSpan(fsEvent("e", sandboxevent.OutcomeOK), &Span{}, 1) // a path: not a selected type
	assert.Equal(t, map[string]int64{
		"extension=e,target_type=host,target=a.example": 2,
		"extension=e,target_type=host,target=b.example": 1,
		"otel.metric.overflow=true":                     1,
	}, sumPoints(t, collect(a, 2), "sandbox.target.operations"))
}

func TestHostileLabels(t *testing.T) {
	cfg := testConfig()
	cfg.MaxLabelLength = 16
	a := New(cfg, 0)
	long := strings.Repeat("x", 1<<20)
	a.RecordSpan(fsEvent(long, sandboxevent.OutcomeOK), &Span{Duration: -1}, 1)
	a.RecordSpan(fsEvent(long+"y", sandboxevent.OutcomeOK), &Span{}, 1) // same after truncation
	a.RecordSpan(fsEvent("bad\xff", sandboxevent.OutcomeOK), &Span{}, 1)
	a.RecordSpan(fsEvent("bad\xfe", sandboxevent.OutcomeOK), &Span{}, 1) // repairs to the same label
	ms := collect(a, 2)
	assert.Equal(t, map[string]int64{
		"extension=" + strings.Repeat("x", 16) + ",kind=fs,outcome=ok": 2,
		"extension=bad\uFFFD,kind=fs,outcome=ok":                       2,
	}, sumPoints(t, ms, "sandbox.operations"))
	h, _ := metricByName(ms, "sandbox.operation.duration")
	for i := 0; i < h.Histogram().DataPoints().Len(); i++ {
		assert.GreaterOrEqual(t, h.Histogram().DataPoints().At(i).Min(), 0.0, "negative durations are clamped")
	}
}

func TestCollisionChain(t *testing.T) {
	tb := newTable(maphashSeedForTest(), 1, 10, 64, 0, 0)
	// Force two label sets onto one hash chain, as a collision would.
	s1 := tb.newSeries(Labels{"a"}, 42, 0)
	s2 := tb.newSeries(Labels{"b"}, 42, 0)
	s2.next = s1
	tb.byHash[42] = s2
	tb.size = 2
	assert.Same(t, s1, tb.find(42, &Labels{"a"}))
	assert.Same(t, s2, tb.find(42, &Labels{"b"}))
	assert.Nil(t, tb.find(42, &Labels{"c"}))
	tb.remove(s1)
	assert.Nil(t, tb.find(42, &Labels{"a"}))
	assert.Same(t, s2, tb.find(42, &Labels{"b"}))
	tb.remove(s2)
	assert.Empty(t, tb.byHash)
	assert.Equal(t, 0, tb.size)
}

// A series removed by expiry must not stay reachable through its
// extension's entry: the next event creates (and emits) a fresh series,
// and entries without series are dropped.
func TestExpiredSeriesLeaveNoStaleSlot(t *testing.T) {
	cfg := testConfig()
	cfg.Expiry = 10 * sec
	a := New(cfg, 0)
	a.RecordSpan(fsEvent("a", sandboxevent.OutcomeOK), &Span{}, 1*sec)
	a.EndBatch()
	collect(a, 20*sec) // expired
	assert.Equal(t, 0, a.nExts, "the idle entry is dropped")
	assert.Equal(t, 0, a.Stats().Series)
	a.RecordSpan(fsEvent("a", sandboxevent.OutcomeOK), &Span{}, 21*sec)
	a.RecordSpan(fsEvent("a", sandboxevent.OutcomeOK), &Span{}, 21*sec)
	ms := collect(a, 22*sec)
	assert.Equal(t, map[string]int64{"extension=a,kind=fs,outcome=ok": 2}, sumPoints(t, ms, "sandbox.operations"))

	// Expiry while the entry is current (no EndBatch between).
	a.RecordSpan(fsEvent("b", sandboxevent.OutcomeOK), &Span{}, 23*sec)
	collect(a, 40*sec)
	a.RecordSpan(fsEvent("b", sandboxevent.OutcomeOK), &Span{}, 41*sec)
	assert.Equal(t, map[string]int64{"extension=b,kind=fs,outcome=ok": 1}, sumPoints(t, collect(a, 42*sec), "sandbox.operations"))
}

// The entry table is bounded; beyond it events still count, through the
// per-metric lookup.
func TestEntryTableBounded(t *testing.T) {
	cfg := testConfig()
	cfg.MaxSeries = 2
	a := New(cfg, 0)
	for i := 0; i < 100; i++ {
		a.RecordSpan(fsEvent(fmt.Sprintf("e%d", i), sandboxevent.OutcomeOK), &Span{}, 1)
	}
	assert.LessOrEqual(t, a.nExts, 4)
	got := sumPoints(t, collect(a, 2), "sandbox.operations")
	assert.Equal(t, int64(98), got["otel.metric.overflow=true"])
	assert.Len(t, got, 3)
}
