package traceql

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// MaxQueryLen bounds a query: Grafana's builder writes a few hundred
// bytes; a bound keeps the recursive descent shallow for any input.
const MaxQueryLen = 16 << 10

// maxDepth bounds nesting of parentheses and braces.
const maxDepth = 64

// parser is a recursive-descent parser over the lexer, with one token of
// look-ahead.
type parser struct {
	lex   lexer
	tok   token
	depth int
}

// Parse parses a query of the supported subset. Every error is an *Error
// that names what is wrong or unsupported.
func Parse(q string) (*Query, error) {
	if len(q) > MaxQueryLen {
		return nil, errAt(MaxQueryLen, "query longer than %d bytes", MaxQueryLen)
	}
	p := &parser{lex: lexer{src: q}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tokEOF {
		return nil, errAt(0, "empty query: write {} for every trace")
	}
	root, err := p.spansetOr()
	if err != nil {
		return nil, err
	}
	out := &Query{Root: root}
	if p.tok.kind == tokIdent && p.tok.val == "with" {
		if out.Hints, err = p.hints(); err != nil {
			return nil, err
		}
	}
	switch p.tok.kind {
	case tokEOF:
		return out, nil
	case tokPipe:
		return nil, p.pipeline()
	}
	return nil, p.unexpected("end of query")
}

func (p *parser) advance() error {
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) expect(k tokKind, what string) error {
	if p.tok.kind != k {
		return p.unexpected(what)
	}
	return p.advance()
}

func (p *parser) unexpected(want string) error {
	switch p.tok.kind {
	case tokEOF:
		return errAt(p.tok.pos, "unexpected end of query, expected %s", want)
	case tokArith:
		return errAt(p.tok.pos, "arithmetic (%s) is not supported", p.tok.text)
	case tokOther:
		return errAt(p.tok.pos, "the operator %s is not supported (supported between spansets: && || >> > << < ~)", p.tok.text)
	}
	return errAt(p.tok.pos, "unexpected %q, expected %s", p.tok.text, want)
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return errAt(p.tok.pos, "nested deeper than %d levels", maxDepth)
	}
	return nil
}

// spansetOr := spansetAnd { '||' spansetAnd }
func (p *parser) spansetOr() (Spanset, error) {
	l, err := p.spansetAnd()
	if err != nil {
		return nil, err
	}
	for p.tok.kind == tokOr {
		if err := p.advance(); err != nil {
			return nil, err
		}
		r, err := p.spansetAnd()
		if err != nil {
			return nil, err
		}
		l = SpansetOp{Op: SetOr, L: l, R: r}
	}
	return l, nil
}

// spansetAnd := spansetStruct { '&&' spansetStruct }
func (p *parser) spansetAnd() (Spanset, error) {
	l, err := p.spansetStruct()
	if err != nil {
		return nil, err
	}
	for p.tok.kind == tokAnd {
		if err := p.advance(); err != nil {
			return nil, err
		}
		r, err := p.spansetStruct()
		if err != nil {
			return nil, err
		}
		l = SpansetOp{Op: SetAnd, L: l, R: r}
	}
	return l, nil
}

var structural = map[tokKind]SpansetOperator{tokDesc: SetDesc, tokGt: SetChild, tokAnc: SetAnc, tokLt: SetParent, tokTilde: SetSibling}

// spansetStruct := spansetPrimary { ('>>'|'>'|'<<'|'<'|'~') spansetPrimary }
func (p *parser) spansetStruct() (Spanset, error) {
	l, err := p.spansetPrimary()
	if err != nil {
		return nil, err
	}
	for {
		op, ok := structural[p.tok.kind]
		if !ok {
			if p.tok.kind == tokOther {
				return nil, p.unexpected("")
			}
			return l, nil
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		r, err := p.spansetPrimary()
		if err != nil {
			return nil, err
		}
		l = SpansetOp{Op: op, L: l, R: r}
	}
}

// spansetPrimary := '{' [cond] '}' | '(' spansetOr ')'
func (p *parser) spansetPrimary() (Spanset, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	switch p.tok.kind {
	case tokLBrace:
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind == tokRBrace {
			return Filter{}, p.advance()
		}
		c, err := p.condOr()
		if err != nil {
			return nil, err
		}
		return Filter{Cond: c}, p.expect(tokRBrace, "'}' or && or ||")
	case tokLParen:
		if err := p.advance(); err != nil {
			return nil, err
		}
		s, err := p.spansetOr()
		if err != nil {
			return nil, err
		}
		return s, p.expect(tokRParen, "')'")
	case tokIdent:
		if isMetricsFunc(p.tok.val) || isPipelineFunc(p.tok.val) {
			return nil, errAt(p.tok.pos, "%s() outside a pipeline is not supported", p.tok.val)
		}
	}
	return nil, p.unexpected("'{'")
}

// condOr := condAnd { '||' condAnd }
func (p *parser) condOr() (Cond, error) {
	l, err := p.condAnd()
	if err != nil {
		return nil, err
	}
	for p.tok.kind == tokOr {
		if err := p.advance(); err != nil {
			return nil, err
		}
		r, err := p.condAnd()
		if err != nil {
			return nil, err
		}
		l = Or{L: l, R: r}
	}
	return l, nil
}

// condAnd := condUnary { '&&' condUnary }
func (p *parser) condAnd() (Cond, error) {
	l, err := p.condUnary()
	if err != nil {
		return nil, err
	}
	for p.tok.kind == tokAnd {
		if err := p.advance(); err != nil {
			return nil, err
		}
		r, err := p.condUnary()
		if err != nil {
			return nil, err
		}
		l = And{L: l, R: r}
	}
	return l, nil
}

// condUnary := '!' condUnary | '(' condOr ')' | comparison
func (p *parser) condUnary() (Cond, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	switch p.tok.kind {
	case tokNot:
		if err := p.advance(); err != nil {
			return nil, err
		}
		x, err := p.condUnary()
		if err != nil {
			return nil, err
		}
		return Not{X: x}, nil
	case tokLParen:
		if err := p.advance(); err != nil {
			return nil, err
		}
		c, err := p.condOr()
		if err != nil {
			return nil, err
		}
		return c, p.expect(tokRParen, "')'")
	}
	return p.comparison()
}

var cmpOps = map[tokKind]CmpOp{tokEq: OpEq, tokNeq: OpNeq, tokGt: OpGt, tokGte: OpGte, tokLt: OpLt, tokLte: OpLte, tokRe: OpRe, tokNRe: OpNRe}

// operand is a field or a literal.
type operand struct {
	field   *Field
	literal *Static
	pos     int
	text    string
}

// comparison := operand op operand | true | false
func (p *parser) comparison() (Cond, error) {
	l, err := p.operand()
	if err != nil {
		return nil, err
	}
	op, ok := cmpOps[p.tok.kind]
	if !ok {
		if l.literal != nil && l.literal.Type == TypeBool {
			return BoolCond{V: l.literal.B}, nil
		}
		return nil, p.unexpected("a comparison operator after " + l.text)
	}
	opPos := p.tok.pos
	if err := p.advance(); err != nil {
		return nil, err
	}
	r, err := p.operand()
	if err != nil {
		return nil, err
	}
	if p.tok.kind == tokArith || p.tok.kind == tokMinus {
		return nil, errAt(p.tok.pos, "arithmetic (%s) is not supported", p.tok.text)
	}
	switch {
	case l.field != nil && r.field != nil:
		return nil, errAt(opPos, "comparing two fields (%s %s %s) is not supported", l.text, op, r.text)
	case l.literal != nil && r.literal != nil:
		return nil, errAt(opPos, "a comparison needs a field, not two values (%s %s %s)", l.text, op, r.text)
	case l.literal != nil:
		if op == OpRe || op == OpNRe {
			return nil, errAt(opPos, "the regular expression goes right of %s", op)
		}
		l, r, op = r, l, op.flip()
	}
	return newCompare(*l.field, op, *r.literal, r.pos)
}

// newCompare checks that the value suits the field and operator.
func newCompare(f Field, op CmpOp, v Static, pos int) (*Compare, error) {
	c := &Compare{Field: f, Op: op, Value: v}
	if op == OpRe || op == OpNRe {
		if v.Type != TypeString {
			return nil, errAt(pos, "%s needs a string (a regular expression), not %s", op, v)
		}
		re, err := regexp.Compile("^(?:" + v.S + ")$")
		if err != nil {
			return nil, errAt(pos, "invalid regular expression: %v", err)
		}
		c.re = re
	}
	if v.Type == TypeNil && op != OpEq && op != OpNeq {
		return nil, errAt(pos, "nil compares only with = and !=")
	}
	if f.Scope != ScopeIntrinsic {
		return c, nil
	}
	want := intrinsicType(f.Intrinsic)
	ordered := op != OpEq && op != OpNeq
	switch {
	case v.Type == TypeNil:
		return nil, errAt(pos, "%s is always present: it cannot be compared with nil", f)
	case want == TypeStatus || want == TypeKind:
		if v.Type != want {
			return nil, errAt(pos, "%s compares with a %s keyword, not %s", f, map[Type]string{TypeStatus: "status (error, ok, unset)", TypeKind: "kind (server, client, ...)"}[want], v)
		}
		if ordered {
			return nil, errAt(pos, "%s supports only = and !=", f)
		}
	case want == TypeDuration:
		if v.Type != TypeDuration && v.Type != TypeInt && v.Type != TypeFloat {
			return nil, errAt(pos, "%s compares with a duration such as 100ms, not %s", f, v)
		}
		if op == OpRe || op == OpNRe {
			return nil, errAt(pos, "%s is a duration: %s does not apply", f, op)
		}
	case want == TypeString:
		if v.Type != TypeString {
			return nil, errAt(pos, "%s compares with a string, not %s", f, v)
		}
	}
	return c, nil
}

func intrinsicType(i Intrinsic) Type {
	switch i {
	case IntrinsicStatus:
		return TypeStatus
	case IntrinsicKind:
		return TypeKind
	case IntrinsicDuration, IntrinsicTraceDuration:
		return TypeDuration
	}
	return TypeString
}

// Intrinsics are the bare intrinsic names of the subset.
var Intrinsics = map[string]Intrinsic{
	"name": IntrinsicName, "status": IntrinsicStatus, "kind": IntrinsicKind, "duration": IntrinsicDuration,
	"statusMessage": IntrinsicStatusMessage, "traceDuration": IntrinsicTraceDuration,
	"rootName": IntrinsicRootName, "rootServiceName": IntrinsicRootServiceName,
}

var colonIntrinsics = map[string]Intrinsic{
	"span:name": IntrinsicName, "span:status": IntrinsicStatus, "span:kind": IntrinsicKind,
	"span:duration": IntrinsicDuration, "span:statusMessage": IntrinsicStatusMessage, "span:id": IntrinsicSpanID,
	"trace:duration": IntrinsicTraceDuration, "trace:rootName": IntrinsicRootName,
	"trace:rootService": IntrinsicRootServiceName, "trace:id": IntrinsicTraceID,
}

// operand := attribute | intrinsic | literal
func (p *parser) operand() (operand, error) {
	t := p.tok
	o := operand{pos: t.pos, text: t.text}
	switch t.kind {
	case tokAttr:
		switch t.scope {
		case "span":
			o.field = &Field{Scope: ScopeSpan, Name: t.val}
		case "resource":
			o.field = &Field{Scope: ScopeResource, Name: t.val}
		case "":
			o.field = &Field{Scope: ScopeUnscoped, Name: t.val}
		default:
			return o, errAt(t.pos, "the %s. scope is not supported (supported: span., resource., unscoped .)", t.scope)
		}
	case tokColon:
		in, ok := colonIntrinsics[t.scope+":"+t.val]
		if !ok {
			return o, errAt(t.pos, "the intrinsic %s is not supported", t.text)
		}
		o.field = &Field{Scope: ScopeIntrinsic, Name: t.text, Intrinsic: in}
	case tokIdent:
		if in, ok := Intrinsics[t.val]; ok {
			o.field = &Field{Scope: ScopeIntrinsic, Name: t.val, Intrinsic: in}
			break
		}
		lit, ok := keywordLiteral(t.val)
		if !ok {
			if unsupportedIntrinsics[t.val] {
				return o, errAt(t.pos, "the intrinsic %s is not supported", t.val)
			}
			return o, errAt(t.pos, "unknown name %q: write span.%s, resource.%s or .%s for an attribute", t.val, t.val, t.val, t.val)
		}
		o.literal = &lit
	case tokString:
		o.literal = &Static{Type: TypeString, S: t.val}
	case tokNumber:
		lit, err := numberLiteral(t, false)
		if err != nil {
			return o, err
		}
		o.literal = &lit
	case tokMinus:
		if err := p.advance(); err != nil {
			return o, err
		}
		if p.tok.kind != tokNumber {
			return o, errAt(t.pos, "arithmetic (-) is not supported")
		}
		lit, err := numberLiteral(p.tok, true)
		if err != nil {
			return o, err
		}
		o.literal, o.text = &lit, "-"+p.tok.text
	default:
		return o, p.unexpected("a field or a value")
	}
	return o, p.advance()
}

var unsupportedIntrinsics = map[string]bool{
	"childCount": true, "parent": true, "nestedSetLeft": true, "nestedSetRight": true, "nestedSetParent": true,
}

func keywordLiteral(w string) (Static, bool) {
	switch w {
	case "true", "false":
		return Static{Type: TypeBool, B: w == "true"}, true
	case "nil":
		return Static{Type: TypeNil}, true
	}
	if v, ok := statusNames[w]; ok {
		return Static{Type: TypeStatus, I: v}, true
	}
	if v, ok := kindNames[w]; ok {
		return Static{Type: TypeKind, I: v}, true
	}
	return Static{}, false
}

// numberLiteral reads an int, a float or a duration.
func numberLiteral(t token, neg bool) (Static, error) {
	s := t.val
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		if neg {
			i = -i
		}
		return Static{Type: TypeInt, I: i}, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !strings.ContainsAny(s, "xXpP_") {
		if neg {
			f = -f
		}
		return Static{Type: TypeFloat, F: f}, nil
	}
	if d, err := time.ParseDuration(s); err == nil && !strings.HasPrefix(s, "+") {
		if neg {
			d = -d
		}
		return Static{Type: TypeDuration, I: int64(d)}, nil
	}
	return Static{}, errAt(t.pos, "%q is not a number or a duration (units: ns us µs ms s m h)", s)
}

// hints := 'with' '(' name '=' literal { ',' name '=' literal } ')'
func (p *parser) hints() (map[string]Static, error) {
	if err := p.advance(); err != nil {
		return nil, err
	}
	if err := p.expect(tokLParen, "'(' after with"); err != nil {
		return nil, err
	}
	out := map[string]Static{}
	for {
		if p.tok.kind != tokIdent {
			return nil, p.unexpected("a hint name")
		}
		name := p.tok.val
		if err := p.advance(); err != nil {
			return nil, err
		}
		if err := p.expect(tokEq, "'=' after the hint name"); err != nil {
			return nil, err
		}
		v, err := p.operand()
		if err != nil {
			return nil, err
		}
		if v.literal == nil {
			return nil, errAt(v.pos, "a hint's value must be a literal")
		}
		out[name] = *v.literal
		if p.tok.kind == tokComma {
			if err := p.advance(); err != nil {
				return nil, err
			}
			continue
		}
		return out, p.expect(tokRParen, "')' or ','")
	}
}

var metricsFuncs = map[string]bool{
	"rate": true, "count_over_time": true, "sum_over_time": true, "min_over_time": true, "max_over_time": true,
	"avg_over_time": true, "quantile_over_time": true, "histogram_over_time": true, "compare": true,
	"topk": true, "bottomk": true,
}

var pipelineFuncs = map[string]bool{
	"count": true, "avg": true, "min": true, "max": true, "sum": true, "select": true, "by": true, "coalesce": true,
}

func isMetricsFunc(w string) bool  { return metricsFuncs[w] }
func isPipelineFunc(w string) bool { return pipelineFuncs[w] }

// pipeline names the refused construct after '|'.
func (p *parser) pipeline() error {
	pos := p.tok.pos
	if err := p.advance(); err != nil {
		return err
	}
	switch {
	case p.tok.kind == tokIdent && isMetricsFunc(p.tok.val):
		return errAt(pos, "metrics function %s() is not supported: sandwatch serves search, not /api/metrics", p.tok.val)
	case p.tok.kind == tokIdent:
		return errAt(pos, "pipeline stage %s() is not supported: pipelines (| ...) are not part of the subset", p.tok.val)
	}
	return errAt(pos, "pipelines (| ...) are not supported")
}

// ParseField parses a tag name as the tag endpoints take it: span.x,
// resource.x, .x (unscoped) or an intrinsic (name, status, span:kind...).
func ParseField(s string) (Field, error) {
	if len(s) > MaxQueryLen {
		return Field{}, errAt(MaxQueryLen, "tag longer than %d bytes", MaxQueryLen)
	}
	p := &parser{lex: lexer{src: s}}
	if err := p.advance(); err != nil {
		return Field{}, err
	}
	o, err := p.operand()
	if err != nil {
		return Field{}, err
	}
	if o.field == nil {
		return Field{}, errAt(o.pos, "%q is not an attribute or an intrinsic", s)
	}
	if p.tok.kind != tokEOF {
		return Field{}, p.unexpected("end of the tag name")
	}
	return *o.field, nil
}
