package baselineconnector

import (
	"fmt"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/detect"
	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/metadata"
	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/profile"
)

type pmetricsOrNil = *pmetric.Metrics

// Attribute keys of anomaly records (stable: dashboards and SIEM rules
// select on them).
const (
	AttrType     = "anomaly.type"
	AttrRule     = "anomaly.rule"
	AttrTarget   = "anomaly.target"
	AttrObserved = "anomaly.observed"
	AttrExpected = "anomaly.expected"
	AttrScore    = "anomaly.score"
	AttrCount    = "anomaly.count"
	AttrRepeat   = "anomaly.repeat"
	AttrLearning = "anomaly.learning_state"
	AttrExt      = "sandbox.extension.id"
	EventName    = "sandbox.anomaly"
)

func severityNumber(s detect.Severity) plog.SeverityNumber {
	switch s {
	case detect.SeverityInfo:
		return plog.SeverityNumberInfo
	case detect.SeverityError:
		return plog.SeverityNumberError
	case detect.SeverityCritical:
		return plog.SeverityNumberFatal
	}
	return plog.SeverityNumberWarn
}

// drainLocked turns the engine's anomalies into log records and counts
// them (b.mu held).
func (b *baseline) drainLocked(now time.Time) plog.Logs {
	as := b.eng.Drain()
	if len(as) == 0 {
		return plog.NewLogs()
	}
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "sandwatch")
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName(metadata.ScopeName)
	recs := sl.LogRecords()
	recs.EnsureCapacity(len(as))
	ts := pcommon.NewTimestampFromTime(now)
	for i := range as {
		a := &as[i]
		r := recs.AppendEmpty()
		r.SetTimestamp(pcommon.Timestamp(a.Time))
		r.SetObservedTimestamp(ts)
		r.SetTraceID(a.TraceID)
		r.SetSpanID(a.SpanID)
		r.SetSeverityNumber(severityNumber(a.Severity))
		r.SetSeverityText(string(a.Severity))
		r.SetEventName(EventName)
		r.Body().SetStr(fmt.Sprintf("%s: extension %s: %s (expected %s)%s", a.Type, a.ExtensionID, a.Observed, a.Expected, foldedSuffix(a)))
		at := r.Attributes()
		at.EnsureCapacity(10)
		at.PutStr(AttrType, a.Type)
		if a.Rule != "" {
			at.PutStr(AttrRule, a.Rule)
		}
		at.PutStr(AttrExt, a.ExtensionID)
		at.PutStr(AttrTarget, a.Target)
		at.PutStr(AttrObserved, a.Observed)
		at.PutStr(AttrExpected, a.Expected)
		at.PutDouble(AttrScore, a.Score)
		at.PutInt(AttrCount, int64(a.Count))
		if a.Repeat {
			at.PutBool(AttrRepeat, true)
		}
		state := "detecting"
		if a.Learning {
			state = "learning"
		}
		at.PutStr(AttrLearning, state)
		putAttribution(at, a)
		putAgentAndFolded(at, a)
		b.series.add(a.ExtensionID, a.Type, string(a.Severity), int64(a.Count))
		b.tel.anomaly(a.Type, string(a.Severity), int64(a.Count))
	}
	return ld
}

type seriesKey struct{ ext, typ, sev string }

// series are the cumulative anomaly counters, bounded.
type series struct {
	max   int
	start pcommon.Timestamp
	m     map[seriesKey]int64
}

func newSeries(max int, start time.Time) *series {
	return &series{max: max, start: pcommon.NewTimestampFromTime(start), m: map[seriesKey]int64{}}
}

func (s *series) add(ext, typ, sev string, n int64) {
	k := seriesKey{ext, typ, sev}
	if _, ok := s.m[k]; !ok && len(s.m) >= s.max {
		k.ext = "_other"
	}
	s.m[k] += n
}

// metricsDueLocked builds the metrics when their interval is due (b.mu held).
func (b *baseline) metricsDueLocked(now time.Time, final bool) *pmetric.Metrics {
	if !final && now.Sub(b.lastMetrics) < b.cfg.MetricsInterval {
		return nil
	}
	b.lastMetrics = now
	md := b.buildMetrics(now)
	return &md
}

func (b *baseline) buildMetrics(now time.Time) pmetric.Metrics {
	ts := pcommon.NewTimestampFromTime(now)
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "sandwatch")
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.Scope().SetName(metadata.ScopeName)
	ms := sm.Metrics()

	sum := cumulativeSum(ms, "sandbox.anomalies", "Anomalies detected by the baseline connector, by extension, type and severity.", "{anomaly}")
	for k, v := range b.series.m {
		dp := point(sum, b.series.start, ts)
		dp.SetIntValue(v)
		dp.Attributes().PutStr("extension", k.ext)
		dp.Attributes().PutStr("type", k.typ)
		dp.Attributes().PutStr("severity", k.sev)
	}

	st := b.eng.Stats()
	g := ms.AppendEmpty()
	g.SetName("sandbox.baseline.extensions")
	g.SetDescription("Extension profiles held, by learning state.")
	g.SetUnit("{extension}")
	gg := g.SetEmptyGauge()
	for state, n := range map[string]int{"learning": st.Learning, "detecting": st.Detecting} {
		dp := gg.DataPoints().AppendEmpty()
		dp.SetTimestamp(ts)
		dp.SetIntValue(int64(n))
		dp.Attributes().PutStr("state", state)
	}
	t := ms.AppendEmpty()
	t.SetName("sandbox.baseline.profile.targets")
	t.SetDescription("Targets held exactly in all profiles, by class (overflowed ones are in a Bloom summary).")
	t.SetUnit("{target}")
	tg := t.SetEmptyGauge()
	for c := profile.Class(0); c < profile.NumClasses; c++ {
		dp := tg.DataPoints().AppendEmpty()
		dp.SetTimestamp(ts)
		dp.SetIntValue(int64(st.Targets[c]))
		dp.Attributes().PutStr("class", c.String())
	}
	ds := cumulativeSum(ms, "sandbox.baseline.dropped", "State the baseline connector could not keep within its bounds, by reason.", "{item}")
	var overflow uint64
	for _, o := range st.Overflow {
		overflow += o
	}
	ag := b.eng.AgentStats()
	reasons := map[string]uint64{"profile_evicted": b.eng.C.Evicted, "trace_untracked": b.eng.C.TracesDropped, "target_summarised": overflow,
		"agent_evicted": ag.AgentsEvicted, "session_evicted": ag.SessionsEvicted, "tool_unregistered": ag.ToolsOverflowed}
	for r, n := range b.auditDropped() {
		reasons[r] = n
	}
	for reason, n := range reasons {
		dp := point(ds, b.series.start, ts)
		dp.SetIntValue(int64(n))
		dp.Attributes().PutStr("reason", reason)
	}
	late := cumulativeSum(ms, "sandbox.baseline.learned_late",
		"Records learned after their extension had learned, because their invocation began while it learned (log records that arrive after the spans that completed learning).", "{record}")
	point(late, b.series.start, ts).SetIntValue(int64(b.eng.C.LearnedLate))
	b.appendAuditMetrics(ms, b.series.start, ts)
	return md
}

// cumulativeSum appends a monotonic cumulative sum to ms.
func cumulativeSum(ms pmetric.MetricSlice, name, description, unit string) pmetric.Sum {
	m := ms.AppendEmpty()
	m.SetName(name)
	m.SetDescription(description)
	m.SetUnit(unit)
	sum := m.SetEmptySum()
	sum.SetIsMonotonic(true)
	sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	return sum
}

// point appends a data point to sum, counted since start.
func point(sum pmetric.Sum, start, ts pcommon.Timestamp) pmetric.NumberDataPoint {
	dp := sum.DataPoints().AppendEmpty()
	dp.SetStartTimestamp(start)
	dp.SetTimestamp(ts)
	return dp
}
