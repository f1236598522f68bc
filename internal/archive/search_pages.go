package archive

import (
	"bytes"
	"context"
	"encoding/hex"
	"slices"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/traceql"
)

// pageLoc is a page of spans in a block.
type pageLoc struct {
	Key string
	Off uint64
	Len uint32
}

// pageSpans is a decoded page, its spans grouped by trace.
type pageSpans struct {
	raw     []byte // decompressed (protobuf or JSON)
	decoded bool
	// holds caches, per needle of the plan, whether raw contains it
	// (0 unknown, 1 yes, -1 no): a page is shared by hundreds of traces.
	holds   []int8
	byTrace map[pcommon.TraceID][]traceql.Span
}

// pageCache holds the pages one search has read: neighbouring traces
// share pages, and a search walks them in write order. Bounded by count.
type pageCache struct {
	max   int
	m     map[pageLoc]*pageSpans
	order []pageLoc
}

func newPageCache(n int) *pageCache { return &pageCache{max: n, m: make(map[pageLoc]*pageSpans, n)} }

func (c *pageCache) get(l pageLoc) *pageSpans { return c.m[l] }

func (c *pageCache) put(l pageLoc, p *pageSpans) {
	if len(c.order) >= c.max {
		delete(c.m, c.order[0])
		c.order = c.order[1:]
	}
	c.m[l] = p
	c.order = append(c.order, l)
}

// rawPage returns the decompressed bytes of a page, from the cache or the
// store (counted in m).
func (s *searcher) rawPage(ctx context.Context, l pageLoc) (*pageSpans, error) {
	if p := s.pages.get(l); p != nil {
		return p, nil
	}
	data, err := s.r.readPage(ctx, l.Key, l.Off, l.Len)
	if err != nil {
		return nil, err
	}
	s.m.InspectedBytes += int64(len(data))
	s.m.PagesRead++
	_, f, _ := ParseBlockKey(l.Key)
	raw, err := decompress(f.Compression, data)
	if err != nil {
		return nil, err
	}
	p := &pageSpans{raw: raw}
	s.pages.put(l, p)
	return p, nil
}

// decode parses a page's spans once.
func (s *searcher) decode(l pageLoc, p *pageSpans) error {
	if p.decoded {
		return nil
	}
	_, f, _ := ParseBlockKey(l.Key)
	var td ptrace.Traces
	var err error
	if f.Encoding == EncodingJSON {
		td, err = (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(p.raw)
	} else {
		td, err = (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(p.raw)
	}
	if err != nil {
		return err
	}
	p.decoded = true
	p.byTrace = map[pcommon.TraceID][]traceql.Span{}
	for _, rs := range td.ResourceSpans().All() {
		for _, ss := range rs.ScopeSpans().All() {
			for _, sp := range ss.Spans().All() {
				id := sp.TraceID()
				p.byTrace[id] = append(p.byTrace[id], traceql.Span{Span: sp, Resource: rs.Resource(), Parent: -1})
			}
		}
	}
	s.m.PagesDecoded++
	return nil
}

// loadTrace assembles the spans of id from its pages; nil when a needle
// of the plan is in none of them (the pages are then not decoded).
func (s *searcher) loadTrace(ctx context.Context, id pcommon.TraceID, pages []pageLoc) (*traceql.Trace, error) {
	ps := make([]*pageSpans, 0, len(pages))
	for _, l := range pages {
		p, err := s.rawPage(ctx, l)
		if isNotFound(err) {
			continue // pruned since its catalog was read
		}
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	for ni, n := range s.plan.needles {
		found := false
		for _, p := range ps {
			if p.holds == nil {
				p.holds = make([]int8, len(s.plan.needles))
			}
			if p.holds[ni] == 0 {
				p.holds[ni] = -1
				if bytes.Contains(p.raw, n) {
					p.holds[ni] = 1
				}
			}
			if p.holds[ni] == 1 {
				found = true
				break
			}
		}
		if !found {
			return nil, nil
		}
	}
	t := &traceql.Trace{}
	// A page holds a span once; a retried write may have stored it in
	// another block too.
	var seen map[pcommon.SpanID]struct{}
	if len(ps) > 1 {
		seen = map[pcommon.SpanID]struct{}{}
	}
	for i, p := range ps {
		if err := s.decode(pages[i], p); err != nil {
			return nil, err
		}
		for _, sp := range p.byTrace[id] {
			if seen != nil {
				if _, dup := seen[sp.Span.SpanID()]; dup {
					continue
				}
				seen[sp.Span.SpanID()] = struct{}{}
			}
			sp.Virtual = nil
			t.Spans = append(t.Spans, sp)
		}
	}
	if len(t.Spans) == 0 {
		return nil, nil
	}
	t.Link()
	return t, nil
}

// addVirtual attaches sandwatch.extension to every span and each anomaly
// type to its span (the root, else the first span, when the event names
// no archived span).
func addVirtual(t *traceql.Trace, exts []string, anomalies []AnomalyEntry) {
	if len(exts) > 0 {
		shared := map[string][]string{AttrExtension: exts} // read-only: one for every span
		for i := range t.Spans {
			t.Spans[i].Virtual = shared
		}
	}
	if len(anomalies) == 0 {
		return
	}
	bySpan := make(map[string]int, len(t.Spans))
	root := -1
	for i := range t.Spans {
		id := t.Spans[i].Span.SpanID()
		bySpan[hex.EncodeToString(id[:])] = i
		if root < 0 && t.Spans[i].Span.ParentSpanID().IsEmpty() {
			root = i
		}
	}
	root = max(root, 0)
	for _, a := range anomalies {
		i, ok := bySpan[a.SpanID]
		if !ok {
			i = root
		}
		sp := &t.Spans[i]
		v := make(map[string][]string, 2)
		for k, vs := range sp.Virtual {
			v[k] = vs
		}
		if !slices.Contains(v[AttrAnomaly], a.Type) {
			v[AttrAnomaly] = append(append([]string(nil), v[AttrAnomaly]...), a.Type)
		}
		sp.Virtual = v
	}
}
