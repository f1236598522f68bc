package archive

import (
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"slices"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/sandwatch/sandwatch/internal/traceql"
)

// SearchRequest is a TraceQL search over a time range of the archive.
type SearchRequest struct {
	Query *traceql.Query
	// Start and End bound the traces: a trace matches only if its spans
	// overlap [Start, End].
	Start, End  time.Time
	Limit       int // traces returned, newest first
	SpansPerSet int
	// MaxBytes bounds what one search reads (catalogs, anomaly indexes,
	// pages); 0 is unbounded. Deadline bounds its time (zero: none). A
	// search that reaches either returns what it found, Partial set.
	MaxBytes int64
	Deadline time.Time
	// Skew is how far the senders' clocks may be ahead of the collector's
	// (default 1m). Spread is how long before a trace's newest part its
	// other parts may have been written (default 5m): a trace is evaluated
	// once the catalogs that far back are read. WriteLag is how long after
	// a span ends it may be written (default 1h): catalogs written up to
	// End+WriteLag are read.
	Skew, Spread, WriteLag time.Duration
}

const (
	defaultSkew     = time.Minute
	defaultSpread   = 5 * time.Minute
	defaultWriteLag = time.Hour
)

// SearchResult is what a search found, newest first.
type SearchResult struct {
	Traces  []TraceMatch
	Metrics SearchMetrics
	// Partial says why the search stopped before inspecting its whole
	// range ("" when it did not).
	Partial string
}

// TraceMatch is one matching trace.
type TraceMatch struct {
	TraceID         string
	RootServiceName string // "<root span not yet received>" without a root span
	RootName        string
	Start           uint64 // unix nanos
	Duration        uint64 // nanos
	Matched         int    // spans the query selected
	Spans           []MatchedSpan
}

// MatchedSpan is a selected span, with the attributes the query read.
type MatchedSpan struct {
	SpanID     string
	Name       string
	Start      uint64
	Duration   uint64
	Attributes []MatchedAttr
}

// MatchedAttr is an attribute of a selected span.
type MatchedAttr struct {
	Key   string
	Value pcommon.Value
}

// SearchMetrics say what a search inspected.
type SearchMetrics struct {
	InspectedTraces int   // traces whose spans were evaluated
	InspectedSpans  int64 // spans evaluated
	InspectedBytes  int64 // bytes read: catalogs, anomaly indexes, pages
	Catalogs        int   // catalogs (one per block) in the time range
	CatalogsRead    int
	AnomalyObjects  int // anomaly index objects read
	Candidates      int // traces the indexes left to evaluate
	PrunedByIndex   int // traces the indexes ruled out
	PagesRead       int
	PagesDecoded    int
	// PagesSkipped: pages read but never decoded: no trace of theirs that
	// was evaluated had all the strings the query requires.
	PagesSkipped int
	// PagesNotRead: span pages named by the catalogs read that the
	// search never read.
	PagesNotRead int
}

// RootNotReceived is Tempo's root service name for a trace without a root
// span.
const RootNotReceived = "<root span not yet received>"

// errBudget stops a search at its byte or time bound.
var errBudget = errors.New("search budget reached")

// finish computes the page figures.
func (s *searcher) finish() {
	s.m.PagesNotRead = max(len(s.named)-s.m.PagesRead, 0)
	s.m.PagesSkipped = max(s.m.PagesRead-s.m.PagesDecoded, 0)
}

// searcher is the state of one search.
type searcher struct {
	r     *Reader
	req   SearchRequest
	plan  *plan
	pages *pageCache
	m     SearchMetrics
	top   []TraceMatch
	// visit, when set, receives every matching trace (tag scans) instead
	// of the top-Limit list.
	visit   func(t *traceql.Trace, matched []int)
	partial string
	named   map[pageLoc]struct{} // span pages named by the catalogs read
}

// Search runs req. Results are deterministic: traces newest first by
// their first span's start, ties by trace id.
func (r *Reader) Search(ctx context.Context, req SearchRequest) (*SearchResult, error) {
	s := r.newSearcher(req)
	if err := s.run(ctx); err != nil {
		return nil, err
	}
	s.finish()
	return &SearchResult{Traces: s.top, Metrics: s.m, Partial: s.partial}, nil
}

func (r *Reader) newSearcher(req SearchRequest) *searcher {
	if req.Skew <= 0 {
		req.Skew = defaultSkew
	}
	if req.Spread <= 0 {
		req.Spread = defaultSpread
	}
	if req.WriteLag <= 0 {
		req.WriteLag = defaultWriteLag
	}
	if req.Limit <= 0 {
		req.Limit = 20
	}
	// Needles read raw protobuf; JSON pages escape strings.
	raw := true
	return &searcher{r: r, req: req, plan: newPlan(req.Query, raw), pages: newPageCache(64), named: map[pageLoc]struct{}{}}
}

func (s *searcher) run(ctx context.Context) error {
	var err error
	if s.plan.anomalyDriven {
		err = s.byAnomalies(ctx)
	} else {
		err = s.byCatalogs(ctx)
	}
	if errors.Is(err, errBudget) {
		return nil
	}
	return err
}

// writeWindow is the write times that may hold spans of [Start, End].
func (s *searcher) writeWindow() Window {
	return Window{From: s.req.Start.Add(-s.req.Skew), To: s.req.End.Add(s.req.WriteLag)}
}

// budget stops the search at MaxBytes or Deadline.
func (s *searcher) budget(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	switch {
	case s.req.MaxBytes > 0 && s.m.InspectedBytes >= s.req.MaxBytes:
		s.partial = "byte limit reached"
	case !s.req.Deadline.IsZero() && time.Now().After(s.req.Deadline):
		s.partial = "time limit reached"
	default:
		return nil
	}
	return errBudget
}

// full: Limit traces found, and the last of them starts after start (no
// trace starting at or before start can enter the list).
func (s *searcher) full(start int64) bool {
	return s.visit == nil && len(s.top) >= s.req.Limit && int64(s.top[len(s.top)-1].Start) > start
}

// evaluate matches t, from the trace id's pages, and records it.
func (s *searcher) evaluate(ctx context.Context, id pcommon.TraceID, pages []pageLoc, exts []string, anomalies []AnomalyEntry) error {
	if err := s.budget(ctx); err != nil {
		return err
	}
	t, err := s.loadTrace(ctx, id, pages)
	if err != nil || t == nil {
		return err
	}
	s.m.InspectedTraces++
	s.m.InspectedSpans += int64(len(t.Spans))
	if s.plan.usesExtension || s.plan.usesAnomaly || s.visit != nil {
		addVirtual(t, exts, anomalies)
	}
	start, end := traceBounds(t)
	if end < uint64(s.req.Start.UnixNano()) || start > uint64(s.req.End.UnixNano()) {
		return nil
	}
	matched := s.plan.q.Match(t)
	if len(matched) == 0 {
		return nil
	}
	if s.visit != nil {
		s.visit(t, matched)
		return nil
	}
	s.record(id, t, matched, start, end)
	return nil
}

func traceBounds(t *traceql.Trace) (start, end uint64) {
	for i := range t.Spans {
		st, en := uint64(t.Spans[i].Span.StartTimestamp()), uint64(t.Spans[i].Span.EndTimestamp())
		if st != 0 && (start == 0 || st < start) {
			start = st
		}
		end = max(end, en)
	}
	return start, end
}

// newer orders matches: later start first, then trace id.
func newer(a, b TraceMatch) int {
	return cmp.Or(cmp.Compare(b.Start, a.Start), cmp.Compare(a.TraceID, b.TraceID))
}

func (s *searcher) record(id pcommon.TraceID, t *traceql.Trace, matched []int, start, end uint64) {
	m := TraceMatch{TraceID: TraceHex(id), RootServiceName: t.RootService, RootName: t.RootName,
		Start: start, Duration: end - start, Matched: len(matched)}
	if t.RootName == "" {
		m.RootServiceName = RootNotReceived
	}
	if len(s.top) >= s.req.Limit && newer(m, s.top[len(s.top)-1]) >= 0 {
		return
	}
	for _, i := range matched[:min(len(matched), s.req.SpansPerSet)] {
		m.Spans = append(m.Spans, s.matchedSpan(&t.Spans[i]))
	}
	at, _ := slices.BinarySearchFunc(s.top, m, newer)
	s.top = slices.Insert(s.top, at, m)
	if len(s.top) > s.req.Limit {
		s.top = s.top[:s.req.Limit]
	}
}

// matchedSpan renders a span with the attributes the query reads.
func (s *searcher) matchedSpan(sp *traceql.Span) MatchedSpan {
	id := sp.Span.SpanID()
	out := MatchedSpan{SpanID: hex.EncodeToString(id[:]), Name: sp.Span.Name(),
		Start: uint64(sp.Span.StartTimestamp())}
	if e, st := sp.Span.EndTimestamp(), sp.Span.StartTimestamp(); e > st {
		out.Duration = uint64(e - st)
	}
	seen := map[string]bool{}
	walkCompares(s.plan.q.Root, func(c *traceql.Compare) {
		f := c.Field
		if f.Scope == traceql.ScopeIntrinsic || seen[f.Name] {
			return
		}
		if vs, ok := sp.Virtual[f.Name]; ok && f.Scope != traceql.ScopeResource {
			seen[f.Name] = true
			v := pcommon.NewValueStr(vs[0])
			if len(vs) > 1 {
				v = pcommon.NewValueSlice()
				for _, x := range vs {
					v.Slice().AppendEmpty().SetStr(x)
				}
			}
			out.Attributes = append(out.Attributes, MatchedAttr{Key: f.Name, Value: v})
			return
		}
		var v pcommon.Value
		ok := false
		if f.Scope != traceql.ScopeResource {
			v, ok = sp.Span.Attributes().Get(f.Name)
		}
		if !ok && f.Scope != traceql.ScopeSpan {
			v, ok = sp.Resource.Attributes().Get(f.Name)
		}
		if ok {
			seen[f.Name] = true
			cp := pcommon.NewValueEmpty()
			v.CopyTo(cp)
			out.Attributes = append(out.Attributes, MatchedAttr{Key: f.Name, Value: cp})
		}
	})
	return out
}
