package archive

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/traceql"
)

// Virtual span attributes that search adds from the archive's indexes.
const (
	// AttrExtension is the extension id the event model resolved for a
	// trace (the catalog's), on every span of the trace, whatever key the
	// sandbox host used (sandbox.extension.id, extension.id, plugin.id...).
	AttrExtension = "sandwatch.extension"
	// AttrAnomaly is the type of each anomaly event raised on a span (the
	// anomaly index's), on that span; on the trace's root span when the
	// event names no archived span.
	AttrAnomaly = "sandwatch.anomaly"
)

// plan is what the indexes can decide of a query before pages are read.
type plan struct {
	q *traceql.Query
	// anomalyDriven: every match has an anomaly entry, so candidates come
	// from the anomaly index rather than from the catalogs.
	anomalyDriven bool
	// usesExtension / usesAnomaly: the query reads the virtual attributes.
	usesExtension, usesAnomaly bool
	// needles are byte strings that the span pages of every matching
	// trace contain (attribute keys, string values of equalities): a trace
	// none of whose pages holds one of them is rejected without decoding.
	needles [][]byte
}

// indexFacts is what the indexes say of a trace; nil slices with known
// false mean "not read" (a condition on them cannot prune).
type indexFacts struct {
	extensions     []string
	extensionKnown bool
	anomalies      []string
	anomalyKnown   bool
}

func newPlan(q *traceql.Query, rawPages bool) *plan {
	p := &plan{q: q}
	p.anomalyDriven = requiresAnomaly(q.Root)
	walkCompares(q.Root, func(c *traceql.Compare) {
		if isVirtual(c.Field, AttrExtension) {
			p.usesExtension = true
		}
		if isVirtual(c.Field, AttrAnomaly) {
			p.usesAnomaly = true
		}
	})
	if rawPages {
		p.needles = spansetNeedles(q.Root)
	}
	return p
}

func isVirtual(f traceql.Field, name string) bool {
	return f.Name == name && (f.Scope == traceql.ScopeSpan || f.Scope == traceql.ScopeUnscoped)
}

func walkCompares(s traceql.Spanset, fn func(*traceql.Compare)) {
	switch s := s.(type) {
	case traceql.Filter:
		walkCond(s.Cond, fn)
	case traceql.SpansetOp:
		walkCompares(s.L, fn)
		walkCompares(s.R, fn)
	}
}

func walkCond(c traceql.Cond, fn func(*traceql.Compare)) {
	switch c := c.(type) {
	case traceql.And:
		walkCond(c.L, fn)
		walkCond(c.R, fn)
	case traceql.Or:
		walkCond(c.L, fn)
		walkCond(c.R, fn)
	case traceql.Not:
		walkCond(c.X, fn)
	case *traceql.Compare:
		fn(c)
	}
}

// requiresAnomaly: every trace the spanset matches has a span carrying
// sandwatch.anomaly.
func requiresAnomaly(s traceql.Spanset) bool {
	switch s := s.(type) {
	case traceql.Filter:
		return condRequiresAnomaly(s.Cond)
	case traceql.SpansetOp:
		if s.Op == traceql.SetOr {
			return requiresAnomaly(s.L) && requiresAnomaly(s.R)
		}
		return requiresAnomaly(s.L) || requiresAnomaly(s.R)
	}
	return false
}

func condRequiresAnomaly(c traceql.Cond) bool {
	switch c := c.(type) {
	case traceql.And:
		return condRequiresAnomaly(c.L) || condRequiresAnomaly(c.R)
	case traceql.Or:
		return condRequiresAnomaly(c.L) && condRequiresAnomaly(c.R)
	case *traceql.Compare:
		return isVirtual(c.Field, AttrAnomaly) && !(c.Op == traceql.OpEq && c.Value.Type == traceql.TypeNil)
	}
	return false
}

// may is false when the indexes show that the trace cannot match.
func (p *plan) may(f *indexFacts) bool { return spansetMay(p.q.Root, f) }

func spansetMay(s traceql.Spanset, f *indexFacts) bool {
	switch s := s.(type) {
	case traceql.Filter:
		return s.Cond == nil || condMay(s.Cond, f)
	case traceql.SpansetOp:
		if s.Op == traceql.SetOr {
			return spansetMay(s.L, f) || spansetMay(s.R, f)
		}
		return spansetMay(s.L, f) && spansetMay(s.R, f)
	}
	return true
}

func condMay(c traceql.Cond, f *indexFacts) bool {
	switch c := c.(type) {
	case traceql.And:
		return condMay(c.L, f) && condMay(c.R, f)
	case traceql.Or:
		return condMay(c.L, f) || condMay(c.R, f)
	case traceql.BoolCond:
		return c.V
	case *traceql.Compare:
		switch {
		case isVirtual(c.Field, AttrExtension) && f.extensionKnown:
			// Every span carries every extension of the trace: exact.
			return virtualMatch(c, f.extensions)
		case isVirtual(c.Field, AttrAnomaly) && f.anomalyKnown:
			// A span carries some of the trace's types: necessary only.
			neg := c.Op == traceql.OpNeq || c.Op == traceql.OpNRe
			if c.Value.Type == traceql.TypeNil {
				return c.Op == traceql.OpEq || len(f.anomalies) > 0
			}
			if neg {
				return len(f.anomalies) > 0
			}
			return virtualMatch(c, f.anomalies)
		}
	}
	return true
}

// virtualMatch evaluates c on a span whose only attribute would be the
// virtual one with values vs.
func virtualMatch(c *traceql.Compare, vs []string) bool {
	t := traceql.Trace{Spans: []traceql.Span{{Span: ptrace.NewSpan(), Resource: pcommon.NewResource(), Parent: -1}}}
	if len(vs) > 0 {
		t.Spans[0].Virtual = map[string][]string{c.Field.Name: vs}
	}
	return len((&traceql.Query{Root: traceql.Filter{Cond: c}}).Match(&t)) > 0
}

func spansetNeedles(s traceql.Spanset) [][]byte {
	switch s := s.(type) {
	case traceql.Filter:
		return condNeedles(s.Cond)
	case traceql.SpansetOp:
		if s.Op == traceql.SetOr {
			return nil
		}
		return append(spansetNeedles(s.L), spansetNeedles(s.R)...)
	}
	return nil
}

// condNeedles: what a span satisfying c must carry in its page (raw
// protobuf holds keys and string values as they are).
func condNeedles(c traceql.Cond) [][]byte {
	switch c := c.(type) {
	case traceql.And:
		return append(condNeedles(c.L), condNeedles(c.R)...)
	case *traceql.Compare:
		var out [][]byte
		isStrEq := c.Op == traceql.OpEq && c.Value.Type == traceql.TypeString && c.Value.S != ""
		switch c.Field.Scope {
		case traceql.ScopeIntrinsic:
			switch c.Field.Intrinsic {
			case traceql.IntrinsicName, traceql.IntrinsicStatusMessage, traceql.IntrinsicRootName, traceql.IntrinsicRootServiceName:
				if isStrEq {
					out = append(out, []byte(c.Value.S))
				}
			}
		default:
			if c.Field.Name == AttrExtension || c.Field.Name == AttrAnomaly || c.Value.Type == traceql.TypeNil {
				return nil
			}
			out = append(out, []byte(c.Field.Name))
			if isStrEq {
				out = append(out, []byte(c.Value.S))
			}
		}
		return out
	}
	return nil
}
