package aggregate

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// Collect writes the current interval into ms (one metric per non-empty
// table), then starts the next interval: exemplars are cleared, delta
// series are reset, and series idle for longer than the expiry are
// removed. now is the flush time in unix nanos.
func (a *Aggregator) Collect(now int64, ms pmetric.MetricSlice) {
	ts := pcommon.Timestamp(now)
	for id := MetricID(0); id < NumMetrics; id++ {
		t := a.tables[id]
		if t.size == 0 && t.overflow == nil {
			continue
		}
		d := Defs[id]
		m := pmetric.NewMetric()
		m.SetName(d.Name)
		m.SetDescription(d.Description)
		m.SetUnit(d.Unit)
		temporality := pmetric.AggregationTemporalityCumulative
		if a.cfg.Delta {
			temporality = pmetric.AggregationTemporalityDelta
		}
		var n int
		if d.Histogram {
			h := m.SetEmptyHistogram()
			h.SetAggregationTemporality(temporality)
			dps := h.DataPoints()
			dps.EnsureCapacity(t.size + 1)
			a.each(t, func(s *series, overflow bool) {
				if a.cfg.Delta && !s.dirty {
					return
				}
				dp := dps.AppendEmpty()
				a.writeAttrs(d, s, overflow, dp.Attributes())
				dp.SetStartTimestamp(pcommon.Timestamp(s.start))
				dp.SetTimestamp(ts)
				dp.SetCount(s.count)
				dp.SetSum(s.sum)
				if s.count > 0 {
					dp.SetMin(s.min)
					dp.SetMax(s.max)
				}
				dp.ExplicitBounds().FromRaw(a.cfg.Bounds)
				dp.BucketCounts().FromRaw(s.buckets)
				writeExemplars(s, dp.Exemplars(), true)
				n++
			})
		} else {
			sum := m.SetEmptySum()
			sum.SetIsMonotonic(true)
			sum.SetAggregationTemporality(temporality)
			dps := sum.DataPoints()
			dps.EnsureCapacity(t.size + 1)
			a.each(t, func(s *series, overflow bool) {
				if a.cfg.Delta && !s.dirty {
					return
				}
				dp := dps.AppendEmpty()
				a.writeAttrs(d, s, overflow, dp.Attributes())
				dp.SetStartTimestamp(pcommon.Timestamp(s.start))
				dp.SetTimestamp(ts)
				dp.SetIntValue(int64(s.count))
				writeExemplars(s, dp.Exemplars(), false)
				n++
			})
		}
		if n > 0 {
			m.MoveTo(ms.AppendEmpty())
		}
		a.reset(t, now)
	}
	a.lastFlush = now
	a.cur = nil
	a.dropIdleEntries()
}

// each visits every series of t, the overflow series last.
func (a *Aggregator) each(t *table, fn func(s *series, overflow bool)) {
	for _, head := range t.byHash {
		for s := head; s != nil; s = s.next {
			fn(s, false)
		}
	}
	if t.overflow != nil {
		fn(t.overflow, true)
	}
}

func (a *Aggregator) writeAttrs(d Def, s *series, overflow bool, attrs pcommon.Map) {
	if overflow {
		attrs.PutBool(OverflowAttr, true)
		return
	}
	attrs.EnsureCapacity(len(d.Labels))
	for i, name := range d.Labels {
		if s.labels[i] == "" && d.Optional[i] {
			continue // tool: only agent series carry it
		}
		attrs.PutStr(name, s.labels[i])
	}
}

func writeExemplars(s *series, out pmetric.ExemplarSlice, double bool) {
	if s.exN == 0 {
		return
	}
	out.EnsureCapacity(s.exN)
	// Oldest first: the ring's oldest entry is at exNext once it is full.
	start := 0
	if s.exN == len(s.exemplars) {
		start = s.exNext
	}
	for i := 0; i < s.exN; i++ {
		e := &s.exemplars[(start+i)%len(s.exemplars)]
		x := out.AppendEmpty()
		x.SetTraceID(e.TraceID)
		x.SetSpanID(e.SpanID)
		x.SetTimestamp(e.Time)
		if double {
			x.SetDoubleValue(e.Value)
		} else {
			x.SetIntValue(int64(e.Value))
		}
	}
}

// reset starts the next interval of t.
func (a *Aggregator) reset(t *table, now int64) {
	var expired []*series
	a.each(t, func(s *series, overflow bool) {
		s.exN, s.exNext = 0, 0
		s.dirty = false
		if a.cfg.Delta {
			s.count, s.sum, s.min, s.max = 0, 0, 0, 0
			clear(s.buckets)
			s.start = now
		}
		if a.cfg.Expiry > 0 && now-s.lastSeen > a.cfg.Expiry {
			if overflow {
				t.overflow = nil
			} else {
				expired = append(expired, s)
			}
		}
	})
	for _, s := range expired {
		t.remove(s)
	}
}
