package archive

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Extensions name the sandboxed extension a span or log record belongs to
// ("" when unknown); the writer records it in the index so `list` can
// filter by extension. They are called until a group has a name, typically
// once per trace, not per span. Either may be nil.
type Extensions struct {
	OfSpan func(resource pcommon.Resource, span ptrace.Span) string
	OfLog  func(resource pcommon.Resource, rec plog.LogRecord) string
}

// maxExtensionLen bounds what a sender can put in the index per object.
const maxExtensionLen = 256

func clip(s string) string {
	if len(s) > maxExtensionLen {
		s = s[:maxExtensionLen]
	}
	return strings.Clone(s) // the classifier's strings alias pdata memory
}

// Group is the part of a batch that belongs to one trace (or, with an
// empty ID, to no trace), as a self-contained payload.
type Group struct {
	ID        pcommon.TraceID // empty: spans/logs without a trace id
	Traces    ptrace.Traces   // set for span groups
	Logs      plog.Logs       // set for log groups
	Count     int             // spans or log records
	Start     uint64          // earliest start (unix nanos), 0 if unknown
	End       uint64          // latest end (unix nanos)
	Extension string
	RootName  string // the name of a span without a parent, if present

	lastRS, lastSS int
	curRS          ptrace.ResourceSpans
	curSS          ptrace.ScopeSpans
	curRL          plog.ResourceLogs
	curSL          plog.ScopeLogs
}

// SplitTraces groups td's spans by trace id, keeping resource and scope,
// in order of first appearance. td is not modified.
func SplitTraces(td ptrace.Traces, ext Extensions) []*Group {
	var groups []*Group
	byID := make(map[pcommon.TraceID]*Group)
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			ss := sss.At(j)
			spans := ss.Spans()
			for k := 0; k < spans.Len(); k++ {
				span := spans.At(k)
				id := span.TraceID()
				g := byID[id]
				if g == nil {
					g = &Group{ID: id, Traces: ptrace.NewTraces(), lastRS: -1, lastSS: -1}
					byID[id] = g
					groups = append(groups, g)
				}
				if g.lastRS != i {
					g.curRS = g.Traces.ResourceSpans().AppendEmpty()
					rs.Resource().CopyTo(g.curRS.Resource())
					g.curRS.SetSchemaUrl(rs.SchemaUrl())
					g.lastRS, g.lastSS = i, -1
				}
				if g.lastSS != j {
					g.curSS = g.curRS.ScopeSpans().AppendEmpty()
					ss.Scope().CopyTo(g.curSS.Scope())
					g.curSS.SetSchemaUrl(ss.SchemaUrl())
					g.lastSS = j
				}
				span.CopyTo(g.curSS.Spans().AppendEmpty())
				g.Count++
				g.widen(uint64(span.StartTimestamp()), uint64(span.EndTimestamp()))
				if g.RootName == "" && span.ParentSpanID().IsEmpty() {
					g.RootName = span.Name()
				}
				if g.Extension == "" && ext.OfSpan != nil {
					g.Extension = clip(ext.OfSpan(rs.Resource(), span))
				}
			}
		}
	}
	return groups
}

// SplitLogs groups ld's records by trace id; records without one form the
// group with an empty ID. ld is not modified.
func SplitLogs(ld plog.Logs, ext Extensions) []*Group {
	var groups []*Group
	byID := make(map[pcommon.TraceID]*Group)
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			sl := sls.At(j)
			recs := sl.LogRecords()
			for k := 0; k < recs.Len(); k++ {
				rec := recs.At(k)
				id := rec.TraceID()
				g := byID[id]
				if g == nil {
					g = &Group{ID: id, Logs: plog.NewLogs(), lastRS: -1, lastSS: -1}
					byID[id] = g
					groups = append(groups, g)
				}
				if g.lastRS != i {
					g.curRL = g.Logs.ResourceLogs().AppendEmpty()
					rl.Resource().CopyTo(g.curRL.Resource())
					g.curRL.SetSchemaUrl(rl.SchemaUrl())
					g.lastRS, g.lastSS = i, -1
				}
				if g.lastSS != j {
					g.curSL = g.curRL.ScopeLogs().AppendEmpty()
					sl.Scope().CopyTo(g.curSL.Scope())
					g.curSL.SetSchemaUrl(sl.SchemaUrl())
					g.lastSS = j
				}
				rec.CopyTo(g.curSL.LogRecords().AppendEmpty())
				g.Count++
				ts := uint64(rec.Timestamp())
				if ts == 0 {
					ts = uint64(rec.ObservedTimestamp())
				}
				g.widen(ts, ts)
				if g.Extension == "" && ext.OfLog != nil {
					g.Extension = clip(ext.OfLog(rl.Resource(), rec))
				}
			}
		}
	}
	return groups
}

func (g *Group) widen(start, end uint64) {
	if start != 0 && (g.Start == 0 || start < g.Start) {
		g.Start = start
	}
	if end > g.End {
		g.End = end
	}
}
