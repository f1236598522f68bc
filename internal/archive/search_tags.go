package archive

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/sandwatch/sandwatch/internal/traceql"
)

// TagRequest selects the spans whose tags or tag values are listed: those
// Query selects (every span when nil) among the traces of [Start, End],
// newest first, until MaxBytes or Deadline. Limit bounds the names per
// scope or the values.
type TagRequest struct {
	Query      *traceql.Query
	Start, End time.Time
	Limit      int
	MaxBytes   int64
	Deadline   time.Time
}

// TagScope is the tag names of one scope.
type TagScope struct {
	Name string
	Tags []string
}

// TagValue is a distinct value with its TraceQL type name (string, int,
// float, bool, duration, keyword).
type TagValue struct {
	Type  string
	Value string
}

// IntrinsicTags are the intrinsics search takes.
var IntrinsicTags = []string{"duration", "kind", "name", "rootName", "rootServiceName", "status", "statusMessage", "traceDuration"}

func (q TagRequest) search() SearchRequest {
	if q.Query == nil {
		q.Query = &traceql.Query{Root: traceql.Filter{}}
	}
	return SearchRequest{Query: q.Query, Start: q.Start, End: q.End, Limit: 1, MaxBytes: q.MaxBytes, Deadline: q.Deadline}
}

// scan calls fn with the selected spans of every trace it reaches.
func (r *Reader) scan(ctx context.Context, req SearchRequest, fn func(*traceql.Trace, []int)) (SearchMetrics, error) {
	s := r.newSearcher(req)
	s.visit = fn
	// Tag values of the virtual attributes need their indexes whatever
	// the query reads.
	s.plan.usesExtension, s.plan.usesAnomaly = true, true
	err := s.run(ctx)
	s.finish()
	return s.m, err
}

// SearchTags lists the span and resource attribute names of the selected
// spans (the virtual sandwatch.extension and sandwatch.anomaly always
// among the span's) and the intrinsics.
func (r *Reader) SearchTags(ctx context.Context, req TagRequest) ([]TagScope, SearchMetrics, error) {
	limit := req.Limit
	if limit <= 0 {
		limit = 1000
	}
	span := map[string]struct{}{AttrExtension: {}, AttrAnomaly: {}}
	res := map[string]struct{}{}
	add := func(set map[string]struct{}, m pcommon.Map) {
		for k := range m.All() {
			if len(set) < limit {
				set[k] = struct{}{}
			}
		}
	}
	m, err := r.scan(ctx, req.search(), func(t *traceql.Trace, matched []int) {
		for _, i := range matched {
			add(span, t.Spans[i].Span.Attributes())
			add(res, t.Spans[i].Resource.Attributes())
		}
	})
	if err != nil {
		return nil, m, err
	}
	sorted := func(set map[string]struct{}) []string {
		out := make([]string, 0, len(set))
		for k := range set {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	return []TagScope{
		{Name: "resource", Tags: sorted(res)},
		{Name: "span", Tags: sorted(span)},
		{Name: "intrinsic", Tags: slices.Clone(IntrinsicTags)},
	}, m, nil
}

var keywordValues = map[traceql.Intrinsic][]string{
	traceql.IntrinsicStatus: {"error", "ok", "unset"},
	traceql.IntrinsicKind:   {"client", "consumer", "internal", "producer", "server", "unspecified"},
}

// SearchTagValues lists the distinct values of tag on the selected spans,
// sorted. Status and kind list their keywords; sandwatch.extension and
// sandwatch.anomaly come from the indexes when no query narrows them.
func (r *Reader) SearchTagValues(ctx context.Context, req TagRequest, tag traceql.Field) ([]TagValue, SearchMetrics, error) {
	limit := req.Limit
	if limit <= 0 {
		limit = 1000
	}
	if kw, ok := keywordValues[tag.Intrinsic]; ok && tag.Scope == traceql.ScopeIntrinsic {
		out := make([]TagValue, 0, len(kw))
		for _, v := range kw[:min(len(kw), limit)] {
			out = append(out, TagValue{Type: "keyword", Value: v})
		}
		return out, SearchMetrics{}, nil
	}
	set := map[TagValue]struct{}{}
	put := func(v TagValue) {
		if len(set) < limit {
			set[v] = struct{}{}
		}
	}
	var m SearchMetrics
	var err error
	trivial := req.Query == nil || isMatchAll(req.Query)
	switch {
	case trivial && isVirtual(tag, AttrExtension):
		w := Window{From: req.Start.Add(-defaultSkew), To: req.End.Add(defaultWriteLag)}
		err = r.Entries(ctx, w, func(e IndexEntry) error {
			if e.Kind == KindSpans && e.Extension != "" {
				put(TagValue{Type: "string", Value: e.Extension})
			}
			return nil
		})
	case trivial && isVirtual(tag, AttrAnomaly):
		w := Window{From: req.Start.Add(-defaultSkew), To: req.End.Add(defaultWriteLag)}
		err = r.Anomalies(ctx, w, func(a AnomalyEntry) error {
			put(TagValue{Type: "string", Value: a.Type})
			return nil
		})
	default:
		m, err = r.scan(ctx, req.search(), func(t *traceql.Trace, matched []int) {
			for _, i := range matched {
				for _, v := range fieldValues(t, i, tag) {
					put(v)
				}
			}
		})
	}
	if err != nil {
		return nil, m, err
	}
	out := make([]TagValue, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b TagValue) int {
		return cmp.Or(strings.Compare(a.Type, b.Type), strings.Compare(a.Value, b.Value))
	})
	return out, m, nil
}

func isMatchAll(q *traceql.Query) bool {
	f, ok := q.Root.(traceql.Filter)
	return ok && f.Cond == nil
}

// fieldValues are the values of f on span i, typed.
func fieldValues(t *traceql.Trace, i int, f traceql.Field) []TagValue {
	sp := &t.Spans[i]
	switch f.Scope {
	case traceql.ScopeIntrinsic:
		switch f.Intrinsic {
		case traceql.IntrinsicName:
			return []TagValue{{Type: "string", Value: sp.Span.Name()}}
		case traceql.IntrinsicStatusMessage:
			if m := sp.Span.Status().Message(); m != "" {
				return []TagValue{{Type: "string", Value: m}}
			}
		case traceql.IntrinsicRootName:
			if t.RootName != "" {
				return []TagValue{{Type: "string", Value: t.RootName}}
			}
		case traceql.IntrinsicRootServiceName:
			if t.RootService != "" {
				return []TagValue{{Type: "string", Value: t.RootService}}
			}
		}
		return nil
	case traceql.ScopeResource:
	default:
		if vs, ok := sp.Virtual[f.Name]; ok {
			out := make([]TagValue, len(vs))
			for j, v := range vs {
				out[j] = TagValue{Type: "string", Value: v}
			}
			return out
		}
		if v, ok := sp.Span.Attributes().Get(f.Name); ok {
			return typedValues(v)
		}
		if f.Scope == traceql.ScopeSpan {
			return nil
		}
	}
	if v, ok := sp.Resource.Attributes().Get(f.Name); ok {
		return typedValues(v)
	}
	return nil
}

// typedValues maps an attribute value to TraceQL types (Grafana's query
// builder quotes only "string" values); an array lists its elements.
func typedValues(v pcommon.Value) []TagValue {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return []TagValue{{Type: "string", Value: v.Str()}}
	case pcommon.ValueTypeInt:
		return []TagValue{{Type: "int", Value: strconv.FormatInt(v.Int(), 10)}}
	case pcommon.ValueTypeDouble:
		return []TagValue{{Type: "float", Value: strconv.FormatFloat(v.Double(), 'f', -1, 64)}}
	case pcommon.ValueTypeBool:
		return []TagValue{{Type: "bool", Value: strconv.FormatBool(v.Bool())}}
	case pcommon.ValueTypeSlice:
		var out []TagValue
		for _, e := range v.Slice().All() {
			if e.Type() != pcommon.ValueTypeSlice && e.Type() != pcommon.ValueTypeMap {
				out = append(out, typedValues(e)...)
			}
		}
		return out
	}
	return nil
}
