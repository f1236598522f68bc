package traceql

import (
	"encoding/hex"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Span is one span of a trace under evaluation.
type Span struct {
	Span     ptrace.Span
	Resource pcommon.Resource
	// Parent is the index of the parent span in Trace.Spans, -1 when the
	// span has none or its parent is not archived (set by Trace.Link).
	Parent int
	// Virtual are span attributes that the archive adds from its indexes
	// (sandwatch.anomaly); they are looked up before the span's own.
	Virtual map[string][]string
}

// Trace is the spans of one trace and its trace-level intrinsics.
type Trace struct {
	Spans       []Span
	RootName    string
	RootService string
	Duration    uint64 // nanoseconds, latest end minus earliest start
}

// Link sets each span's Parent and the trace-level intrinsics.
func (t *Trace) Link() {
	// Most traces are small: a linear scan beats building a map.
	var byID map[pcommon.SpanID]int
	if len(t.Spans) > 16 {
		byID = make(map[pcommon.SpanID]int, len(t.Spans))
		for i := range t.Spans {
			byID[t.Spans[i].Span.SpanID()] = i
		}
	}
	find := func(id pcommon.SpanID) (int, bool) {
		if byID != nil {
			p, ok := byID[id]
			return p, ok
		}
		for j := range t.Spans {
			if t.Spans[j].Span.SpanID() == id {
				return j, true
			}
		}
		return 0, false
	}
	var start, end uint64
	for i := range t.Spans {
		s := &t.Spans[i]
		s.Parent = -1
		if pid := s.Span.ParentSpanID(); !pid.IsEmpty() {
			if p, ok := find(pid); ok && p != i {
				s.Parent = p
			}
		}
		if s.Span.ParentSpanID().IsEmpty() && t.RootName == "" {
			t.RootName = s.Span.Name()
			if v, ok := s.Resource.Attributes().Get("service.name"); ok {
				t.RootService = v.AsString()
			}
		}
		st, en := uint64(s.Span.StartTimestamp()), uint64(s.Span.EndTimestamp())
		if st != 0 && (start == 0 || st < start) {
			start = st
		}
		end = max(end, en)
	}
	if end > start && start != 0 {
		t.Duration = end - start
	}
}

// Match returns the indexes of the spans the query selects in t (empty
// when the trace does not match), ascending.
func (q *Query) Match(t *Trace) []int {
	set := q.eval(q.Root, t)
	var out []int
	for i, ok := range set {
		if ok {
			out = append(out, i)
		}
	}
	return out
}

// spanSet marks the selected spans of a trace.
type spanSet []bool

func (s spanSet) any() bool {
	for _, ok := range s {
		if ok {
			return true
		}
	}
	return false
}

func (q *Query) eval(e Spanset, t *Trace) spanSet {
	out := make(spanSet, len(t.Spans))
	switch e := e.(type) {
	case Filter:
		for i := range t.Spans {
			out[i] = e.Cond == nil || evalCond(e.Cond, t, i)
		}
	case SpansetOp:
		l, r := q.eval(e.L, t), q.eval(e.R, t)
		switch e.Op {
		case SetAnd:
			if l.any() && r.any() {
				for i := range out {
					out[i] = l[i] || r[i]
				}
			}
		case SetOr:
			for i := range out {
				out[i] = l[i] || r[i]
			}
		case SetDesc, SetChild:
			for i := range t.Spans {
				if !r[i] {
					continue
				}
				// depth bounds the walk: hostile parent ids may form a cycle.
				for p, depth := t.Spans[i].Parent, 0; p >= 0 && depth < len(t.Spans); p, depth = t.Spans[p].Parent, depth+1 {
					if l[p] {
						out[i] = true
						break
					}
					if e.Op == SetChild {
						break
					}
				}
			}
		case SetAnc, SetParent:
			for i := range t.Spans {
				if !l[i] {
					continue
				}
				// Mark the ancestors of a span of L that are in R.
				depth := 0
				for p := t.Spans[i].Parent; p >= 0 && depth < len(t.Spans); p = t.Spans[p].Parent {
					if r[p] {
						out[p] = true
					}
					depth++
					if e.Op == SetParent {
						break
					}
				}
			}
		case SetSibling:
			for i := range t.Spans {
				if !r[i] || t.Spans[i].Parent < 0 {
					continue
				}
				for j := range t.Spans {
					if j != i && l[j] && t.Spans[j].Parent == t.Spans[i].Parent {
						out[i] = true
						break
					}
				}
			}
		}
	}
	return out
}

func evalCond(c Cond, t *Trace, i int) bool {
	switch c := c.(type) {
	case And:
		return evalCond(c.L, t, i) && evalCond(c.R, t, i)
	case Or:
		return evalCond(c.L, t, i) || evalCond(c.R, t, i)
	case Not:
		return !evalCond(c.X, t, i)
	case BoolCond:
		return c.V
	case *Compare:
		return c.eval(t, i)
	}
	return false
}

func (c *Compare) eval(t *Trace, i int) bool {
	s := &t.Spans[i]
	if c.Field.Scope == ScopeIntrinsic {
		return c.intrinsic(t, s)
	}
	if c.Field.Scope != ScopeResource {
		if vs, ok := s.Virtual[c.Field.Name]; ok {
			return c.anyString(vs)
		}
		if v, ok := s.Span.Attributes().Get(c.Field.Name); ok {
			return c.value(v)
		}
		if c.Field.Scope == ScopeSpan {
			return c.absent()
		}
	}
	if v, ok := s.Resource.Attributes().Get(c.Field.Name); ok {
		return c.value(v)
	}
	return c.absent()
}

// absent: only "= nil" holds for a missing attribute.
func (c *Compare) absent() bool { return c.Value.Type == TypeNil && c.Op == OpEq }

// anyString compares a multi-valued virtual attribute: =, =~ and the
// orderings hold when one value does; != and !~ when none is equal or
// matches.
func (c *Compare) anyString(vs []string) bool {
	if c.Value.Type == TypeNil {
		return c.Op == OpNeq
	}
	neg := c.Op == OpNeq || c.Op == OpNRe
	pos := *c
	switch c.Op {
	case OpNeq:
		pos.Op = OpEq
	case OpNRe:
		pos.Op = OpRe
	}
	for _, v := range vs {
		if pos.str(v) {
			return !neg
		}
	}
	return neg
}

func (c *Compare) value(v pcommon.Value) bool {
	if c.Value.Type == TypeNil {
		return c.Op == OpNeq
	}
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return c.str(v.Str())
	case pcommon.ValueTypeInt:
		return c.num(float64(v.Int()), v.Int(), true)
	case pcommon.ValueTypeDouble:
		return c.num(v.Double(), 0, false)
	case pcommon.ValueTypeBool:
		if c.Value.Type != TypeBool {
			return false
		}
		return c.order(compareBool(v.Bool(), c.Value.B))
	case pcommon.ValueTypeSlice:
		// An array attribute matches when one of its elements does.
		for _, e := range v.Slice().All() {
			if e.Type() != pcommon.ValueTypeSlice && e.Type() != pcommon.ValueTypeMap && c.value(e) {
				return true
			}
		}
	}
	return false
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

func (c *Compare) str(s string) bool {
	switch c.Op {
	case OpRe:
		return c.re.MatchString(s)
	case OpNRe:
		return !c.re.MatchString(s)
	}
	if c.Value.Type != TypeString {
		return false
	}
	return c.order(strings.Compare(s, c.Value.S))
}

// num compares a numeric attribute with an int or float literal (ints
// exactly, mixed as floats).
func (c *Compare) num(f float64, i int64, isInt bool) bool {
	switch c.Value.Type {
	case TypeInt:
		if isInt {
			return c.order(cmpInt(i, c.Value.I))
		}
		return c.order(cmpFloat(f, float64(c.Value.I)))
	case TypeFloat:
		return c.order(cmpFloat(f, c.Value.F))
	}
	return false
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	case a == b:
		return 0
	}
	return 2 // NaN: no ordering holds, != does
}

// order applies the operator to a three-way comparison.
func (c *Compare) order(r int) bool {
	switch c.Op {
	case OpEq:
		return r == 0
	case OpNeq:
		return r != 0
	case OpGt:
		return r == 1
	case OpGte:
		return r == 1 || r == 0
	case OpLt:
		return r == -1
	case OpLte:
		return r == -1 || r == 0
	}
	return false
}

func (c *Compare) intrinsic(t *Trace, s *Span) bool {
	switch c.Field.Intrinsic {
	case IntrinsicName:
		return c.str(s.Span.Name())
	case IntrinsicStatusMessage:
		return c.str(s.Span.Status().Message())
	case IntrinsicSpanID:
		id := s.Span.SpanID()
		return c.str(hex.EncodeToString(id[:]))
	case IntrinsicTraceID:
		id := s.Span.TraceID()
		return c.str(hex.EncodeToString(id[:]))
	case IntrinsicRootName:
		return c.str(t.RootName)
	case IntrinsicRootServiceName:
		return c.str(t.RootService)
	case IntrinsicStatus:
		return c.order(cmpInt(int64(s.Span.Status().Code()), c.Value.I))
	case IntrinsicKind:
		return c.order(cmpInt(int64(s.Span.Kind()), c.Value.I))
	case IntrinsicDuration:
		st, en := s.Span.StartTimestamp(), s.Span.EndTimestamp()
		var d int64
		if en > st {
			d = int64(en - st)
		}
		return c.duration(d)
	case IntrinsicTraceDuration:
		return c.duration(int64(t.Duration))
	}
	return false
}

// duration compares nanoseconds with a duration (or a bare number of
// nanoseconds).
func (c *Compare) duration(d int64) bool {
	if c.Value.Type == TypeFloat {
		return c.order(cmpFloat(float64(d), c.Value.F))
	}
	return c.order(cmpInt(d, c.Value.I))
}
