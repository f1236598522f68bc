package sandboxevent

import (
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
