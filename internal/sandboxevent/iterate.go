package sandboxevent

import (
	"context"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// EachSpan classifies every span of td, loading each resource's context
// once, and calls fn with the span, its event, and the resource and scope
// it sits under (for OTTL contexts). ev is reused between calls: copy what
// you keep.
func (c *Classifier) EachSpan(td ptrace.Traces, fn func(span ptrace.Span, ev *Event, rs ptrace.ResourceSpans, ss ptrace.ScopeSpans)) {
	var rc ResourceContext
	var ev Event
	c.LearnSessions(td) // a batch's session identities before its tool spans
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		c.LoadResource(rs.Resource().Attributes(), &rc)
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			ss := sss.At(j)
			spans := ss.Spans()
			for k := 0; k < spans.Len(); k++ {
				span := spans.At(k)
				c.ClassifySpan(span, &rc, &ev)
				fn(span, &ev, rs, ss)
			}
		}
	}
}

// EachLog is EachSpan for log records.
func (c *Classifier) EachLog(ld plog.Logs, fn func(rec plog.LogRecord, ev *Event, rl plog.ResourceLogs, sl plog.ScopeLogs)) {
	var rc ResourceContext
	var ev Event
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		c.LoadResource(rl.Resource().Attributes(), &rc)
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			sl := sls.At(j)
			recs := sl.LogRecords()
			for k := 0; k < recs.Len(); k++ {
				rec := recs.At(k)
				c.ClassifyLog(rec, &rc, &ev)
				fn(rec, &ev, rl, sl)
			}
		}
	}
}

// EachSpanShared is EachSpan reading the batch's classification from the
// BatchScope in ctx, when there is one that can keep it, so a batch fanned
// out to several consumers is classified once. Each call of fn gets its
// own copy of the event, which fn may change.
func (c *Classifier) EachSpanShared(ctx context.Context, td ptrace.Traces, fn func(span ptrace.Span, ev *Event, rs ptrace.ResourceSpans, ss ptrace.ScopeSpans)) {
	evs := c.SpanEventsIn(ctx, td)
	if evs == nil {
		c.EachSpan(td, fn)
		return
	}
	var ev Event
	n := 0
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			ss := sss.At(j)
			spans := ss.Spans()
			for k := 0; k < spans.Len(); k++ {
				ev = evs[n]
				n++
				fn(spans.At(k), &ev, rs, ss)
			}
		}
	}
}

// SpanEventsIn returns td's events, in EachSpan's order, from the
// BatchScope in ctx (classifying the batch into it on the first call), or
// nil when ctx carries no scope that keeps them. The events are shared:
// read them, do not change them; they are valid until the scope closes.
func (c *Classifier) SpanEventsIn(ctx context.Context, td ptrace.Traces) []Event {
	s := scopeFrom(ctx)
	if s == nil {
		return nil
	}
	evs, filled := s.spansOf(c, td)
	if evs == nil || len(evs) != td.SpanCount() { // the latter: a consumer broke the read-only contract
		return nil
	}
	if !filled {
		c.LearnSessions(td) // this consumer's own session table, as EachSpan would
	}
	return evs
}

// EachLogShared is EachSpanShared for log records.
func (c *Classifier) EachLogShared(ctx context.Context, ld plog.Logs, fn func(rec plog.LogRecord, ev *Event, rl plog.ResourceLogs, sl plog.ScopeLogs)) {
	evs := c.LogEventsIn(ctx, ld)
	if evs == nil {
		c.EachLog(ld, fn)
		return
	}
	var ev Event
	n := 0
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			sl := sls.At(j)
			recs := sl.LogRecords()
			for k := 0; k < recs.Len(); k++ {
				ev = evs[n]
				n++
				fn(recs.At(k), &ev, rl, sl)
			}
		}
	}
}

// LogEventsIn is SpanEventsIn for log records.
func (c *Classifier) LogEventsIn(ctx context.Context, ld plog.Logs) []Event {
	s := scopeFrom(ctx)
	if s == nil {
		return nil
	}
	evs := s.logsOf(c, ld)
	if evs == nil || len(evs) != ld.LogRecordCount() {
		return nil
	}
	return evs
}
