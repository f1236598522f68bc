package scrubprocessor

import (
	"context"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

func (s *scrubber) processTraces(ctx context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	st := s.tel.get()
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		s.attrs(rs.Resource().Attributes(), 0, false, st)
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			ss := sss.At(j)
			s.attrs(ss.Scope().Attributes(), 0, false, st)
			spans := ss.Spans()
			for k := 0; k < spans.Len(); k++ {
				s.span(spans.At(k), st)
			}
		}
	}
	s.tel.flush(ctx, st)
	return td, nil
}

func (s *scrubber) span(sp ptrace.Span, st *stats) {
	s.strField(sp.Name(), sp.SetName, st)
	s.attrs(sp.Attributes(), 0, false, st)
	if msg := sp.Status().Message(); msg != "" {
		s.strField(msg, sp.Status().SetMessage, st)
	}
	evs := sp.Events()
	for i := 0; i < evs.Len(); i++ {
		ev := evs.At(i)
		s.strField(ev.Name(), ev.SetName, st)
		// exception.message and exception.stacktrace are attributes here.
		s.attrs(ev.Attributes(), 0, false, st)
	}
	links := sp.Links()
	for i := 0; i < links.Len(); i++ {
		s.attrs(links.At(i).Attributes(), 0, false, st)
	}
}

func (s *scrubber) processLogs(ctx context.Context, ld plog.Logs) (plog.Logs, error) {
	st := s.tel.get()
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		s.attrs(rl.Resource().Attributes(), 0, false, st)
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			sl := sls.At(j)
			s.attrs(sl.Scope().Attributes(), 0, false, st)
			recs := sl.LogRecords()
			for k := 0; k < recs.Len(); k++ {
				rec := recs.At(k)
				s.value("", rec.Body(), false, 0, st)
				s.attrs(rec.Attributes(), 0, false, st)
				if n := rec.EventName(); n != "" {
					s.strField(n, rec.SetEventName, st)
				}
			}
		}
	}
	s.tel.flush(ctx, st)
	return ld, nil
}

func (s *scrubber) processMetrics(ctx context.Context, md pmetric.Metrics) (pmetric.Metrics, error) {
	st := s.tel.get()
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		rm := rms.At(i)
		s.attrs(rm.Resource().Attributes(), 0, false, st)
		sms := rm.ScopeMetrics()
		for j := 0; j < sms.Len(); j++ {
			sm := sms.At(j)
			s.attrs(sm.Scope().Attributes(), 0, false, st)
			ms := sm.Metrics()
			for k := 0; k < ms.Len(); k++ {
				s.metric(ms.At(k), st)
			}
		}
	}
	s.tel.flush(ctx, st)
	return md, nil
}

func (s *scrubber) exemplars(es pmetric.ExemplarSlice, st *stats) {
	for i := 0; i < es.Len(); i++ {
		s.attrs(es.At(i).FilteredAttributes(), 0, false, st)
	}
}

func (s *scrubber) metric(m pmetric.Metric, st *stats) {
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		dps := m.Gauge().DataPoints()
		for i := 0; i < dps.Len(); i++ {
			s.attrs(dps.At(i).Attributes(), 0, false, st)
			s.exemplars(dps.At(i).Exemplars(), st)
		}
	case pmetric.MetricTypeSum:
		dps := m.Sum().DataPoints()
		for i := 0; i < dps.Len(); i++ {
			s.attrs(dps.At(i).Attributes(), 0, false, st)
			s.exemplars(dps.At(i).Exemplars(), st)
		}
	case pmetric.MetricTypeHistogram:
		dps := m.Histogram().DataPoints()
		for i := 0; i < dps.Len(); i++ {
			s.attrs(dps.At(i).Attributes(), 0, false, st)
			s.exemplars(dps.At(i).Exemplars(), st)
		}
	case pmetric.MetricTypeExponentialHistogram:
		dps := m.ExponentialHistogram().DataPoints()
		for i := 0; i < dps.Len(); i++ {
			s.attrs(dps.At(i).Attributes(), 0, false, st)
			s.exemplars(dps.At(i).Exemplars(), st)
		}
	case pmetric.MetricTypeSummary:
		dps := m.Summary().DataPoints()
		for i := 0; i < dps.Len(); i++ {
			s.attrs(dps.At(i).Attributes(), 0, false, st)
		}
	}
}
