package testutil

import (
	"cmp"
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/sandwatch/sandwatch/internal/archive"
	"github.com/sandwatch/sandwatch/internal/traceql"
)

// BruteForce answers searches the slow way, through other paths than
// archive.Reader.Search: every trace id of the catalogs, fetched whole by
// trace-by-id (the lookup runs), the virtual attributes applied as the
// forensic_query README documents them (sandwatch.extension on every
// span, each anomaly type on the span its event names, else the root),
// every trace evaluated, newest first.
type BruteForce struct {
	traces []bruteTrace
}

type bruteTrace struct {
	id   string
	t    *traceql.Trace
	s, e uint64
}

// LoadBruteForce reads the whole archive.
func LoadBruteForce(ctx context.Context, r *archive.Reader) (*BruteForce, error) {
	exts := map[string][]string{}
	err := r.Entries(ctx, archive.Window{}, func(e archive.IndexEntry) error {
		if e.TraceID == "" || e.Kind != archive.KindSpans {
			return nil
		}
		if _, ok := exts[e.TraceID]; !ok {
			exts[e.TraceID] = nil
		}
		if e.Extension != "" && !slices.Contains(exts[e.TraceID], e.Extension) {
			exts[e.TraceID] = append(exts[e.TraceID], e.Extension)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	anomalies := map[string][]archive.AnomalyEntry{}
	if err := r.Anomalies(ctx, archive.Window{}, func(a archive.AnomalyEntry) error {
		anomalies[a.TraceID] = append(anomalies[a.TraceID], a)
		return nil
	}); err != nil {
		return nil, err
	}
	bf := &BruteForce{}
	for id, ex := range exts {
		tid, err := archive.ParseTraceID(id)
		if err != nil {
			return nil, err
		}
		got, err := r.Get(ctx, tid)
		if err != nil {
			return nil, fmt.Errorf("get %s: %w", id, err)
		}
		tr := &traceql.Trace{}
		for _, rs := range got.Traces.ResourceSpans().All() {
			for _, ss := range rs.ScopeSpans().All() {
				for _, sp := range ss.Spans().All() {
					tr.Spans = append(tr.Spans, traceql.Span{Span: sp, Resource: rs.Resource()})
				}
			}
		}
		if len(tr.Spans) == 0 {
			continue
		}
		tr.Link()
		slices.Sort(ex)
		root := -1
		for i := range tr.Spans {
			if len(ex) > 0 {
				tr.Spans[i].Virtual = map[string][]string{archive.AttrExtension: ex}
			}
			if root < 0 && tr.Spans[i].Span.ParentSpanID().IsEmpty() {
				root = i
			}
		}
		for _, a := range anomalies[id] {
			at := max(root, 0)
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
			if !slices.Contains(v[archive.AttrAnomaly], a.Type) {
				v[archive.AttrAnomaly] = append(slices.Clone(v[archive.AttrAnomaly]), a.Type)
			}
			tr.Spans[at].Virtual = v
		}
		b := bruteTrace{id: id, t: tr}
		for _, sp := range tr.Spans {
			if st := uint64(sp.Span.StartTimestamp()); b.s == 0 || st < b.s {
				b.s = st
			}
			b.e = max(b.e, uint64(sp.Span.EndTimestamp()))
		}
		bf.traces = append(bf.traces, b)
	}
	return bf, nil
}

// Len is the number of traces loaded.
func (bf *BruteForce) Len() int { return len(bf.traces) }

// Search evaluates q on every trace overlapping [start, end] and returns
// the newest limit matches (TraceID, Start, Duration, Matched, RootName).
func (bf *BruteForce) Search(q *traceql.Query, start, end time.Time, limit int) []archive.TraceMatch {
	out := []archive.TraceMatch{}
	for _, b := range bf.traces {
		if b.e < uint64(start.UnixNano()) || b.s > uint64(end.UnixNano()) {
			continue
		}
		if m := q.Match(b.t); len(m) > 0 {
			out = append(out, archive.TraceMatch{TraceID: b.id, Start: b.s, Duration: b.e - b.s, Matched: len(m), RootName: b.t.RootName})
		}
	}
	slices.SortFunc(out, func(a, b archive.TraceMatch) int {
		return cmp.Or(cmp.Compare(b.Start, a.Start), cmp.Compare(a.TraceID, b.TraceID))
	})
	return out[:min(limit, len(out))]
}
