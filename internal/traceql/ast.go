// Package traceql parses and evaluates the subset of Grafana Tempo's
// TraceQL that sandwatch serves (see the forensic_query README): spanset
// filters with &&, ||, ! and parentheses, the comparison operators, span,
// resource and unscoped attributes, the common intrinsics, and the spanset
// operators &&, ||, >>, >, <<, < and ~. Everything else is refused with an
// error that names the construct.
//
// It is written from the TraceQL documentation and Grafana's
// lezer-traceql grammar; Tempo's own parser (AGPL-3.0) is not used.
package traceql

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Query is a parsed TraceQL query.
type Query struct {
	Root  Spanset
	Hints map[string]Static // with(...): parsed and ignored by the evaluator
}

// Spanset is a spanset expression: a filter or an operator between two.
type Spanset interface{ spanset() }

// Filter is { cond }; Cond is nil for {}.
type Filter struct{ Cond Cond }

// SpansetOp combines two spansets.
type SpansetOp struct {
	Op   SpansetOperator
	L, R Spanset
}

// SpansetOperator is an operator between spansets.
type SpansetOperator int

const (
	SetAnd     SpansetOperator = iota // {A} && {B}: both match; the spans of both
	SetOr                             // {A} || {B}: the spans of either
	SetDesc                           // {A} >> {B}: spans of B below a span of A
	SetChild                          // {A} > {B}: spans of B whose parent is in A
	SetAnc                            // {A} << {B}: spans of B above a span of A
	SetParent                         // {A} < {B}: spans of B that are the parent of a span of A
	SetSibling                        // {A} ~ {B}: spans of B sharing a parent with a span of A
)

func (Filter) spanset()    {}
func (SpansetOp) spanset() {}

// Cond is a condition on one span.
type Cond interface{ cond() }

// And, Or and Not combine conditions.
type (
	And struct{ L, R Cond }
	Or  struct{ L, R Cond }
	Not struct{ X Cond }
	// BoolCond is a bare true or false.
	BoolCond struct{ V bool }
	// Compare is field op value (a value op field is turned around).
	Compare struct {
		Field Field
		Op    CmpOp
		Value Static
		re    *regexp.Regexp // =~ and !~, compiled once, fully anchored
	}
)

func (And) cond()      {}
func (Or) cond()       {}
func (Not) cond()      {}
func (BoolCond) cond() {}
func (*Compare) cond() {}

// CmpOp is a comparison operator.
type CmpOp int

const (
	OpEq CmpOp = iota
	OpNeq
	OpGt
	OpGte
	OpLt
	OpLte
	OpRe
	OpNRe
)

var cmpNames = [...]string{"=", "!=", ">", ">=", "<", "<=", "=~", "!~"}

func (o CmpOp) String() string { return cmpNames[o] }

// flip is the operator with its operands swapped (5 < x is x > 5).
func (o CmpOp) flip() CmpOp {
	switch o {
	case OpGt:
		return OpLt
	case OpGte:
		return OpLte
	case OpLt:
		return OpGt
	case OpLte:
		return OpGte
	}
	return o
}

// Scope says where an attribute is looked up.
type Scope int

const (
	ScopeIntrinsic Scope = iota
	ScopeSpan
	ScopeResource
	ScopeUnscoped // the span's attribute, else its resource's
)

// Intrinsic names a built-in field.
type Intrinsic int

const (
	IntrinsicNone Intrinsic = iota
	IntrinsicName
	IntrinsicStatus
	IntrinsicKind
	IntrinsicDuration
	IntrinsicStatusMessage
	IntrinsicSpanID
	IntrinsicTraceDuration
	IntrinsicRootName
	IntrinsicRootServiceName
	IntrinsicTraceID
)

// Field is what a condition reads.
type Field struct {
	Scope     Scope
	Name      string // the attribute name (scope prefix removed)
	Intrinsic Intrinsic
}

func (f Field) String() string {
	switch f.Scope {
	case ScopeSpan:
		return "span." + f.Name
	case ScopeResource:
		return "resource." + f.Name
	case ScopeUnscoped:
		return "." + f.Name
	}
	return f.Name
}

// Type is a TraceQL value type; its String is the type name the tag
// values API reports (Grafana quotes only "string").
type Type int

const (
	TypeNil Type = iota
	TypeString
	TypeInt
	TypeFloat
	TypeBool
	TypeDuration
	TypeStatus
	TypeKind
)

func (t Type) String() string {
	switch t {
	case TypeString:
		return "string"
	case TypeInt:
		return "int"
	case TypeFloat:
		return "float"
	case TypeBool:
		return "bool"
	case TypeDuration:
		return "duration"
	case TypeStatus, TypeKind:
		return "keyword"
	}
	return "nil"
}

// Status and Kind enums, as OTLP numbers them.
const (
	StatusUnset = 0
	StatusOk    = 1
	StatusError = 2
)

var statusNames = map[string]int64{"unset": StatusUnset, "ok": StatusOk, "error": StatusError}

var kindNames = map[string]int64{"unspecified": 0, "internal": 1, "server": 2, "client": 3, "producer": 4, "consumer": 5}

// Static is a literal.
type Static struct {
	Type Type
	S    string  // string
	I    int64   // int, duration (nanoseconds), status, kind
	F    float64 // float
	B    bool
}

func (s Static) String() string {
	switch s.Type {
	case TypeString:
		return fmt.Sprintf("%q", s.S)
	case TypeInt:
		return fmt.Sprint(s.I)
	case TypeFloat:
		f := strconv.FormatFloat(s.F, 'f', -1, 64)
		if !strings.Contains(f, ".") {
			f += ".0" // stays a float when read back
		}
		return f
	case TypeBool:
		return fmt.Sprint(s.B)
	case TypeDuration:
		return time.Duration(s.I).String()
	case TypeStatus:
		for k, v := range statusNames {
			if v == s.I {
				return k
			}
		}
	case TypeKind:
		for k, v := range kindNames {
			if v == s.I {
				return k
			}
		}
	}
	return "nil"
}

// Error is a query that is not valid or not supported; Pos is the byte
// offset of the construct at fault.
type Error struct {
	Pos int
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("traceql: at offset %d: %s", e.Pos, e.Msg) }

func errAt(pos int, format string, args ...any) error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}
