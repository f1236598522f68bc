package traceql

import "strings"

var setOpNames = map[SpansetOperator]string{SetAnd: "&&", SetOr: "||", SetDesc: ">>", SetChild: ">", SetAnc: "<<", SetParent: "<", SetSibling: "~"}

// String renders the query canonically: fully parenthesised, one space
// around operators (hints omitted). Parse(q.String()) gives q again.
func (q *Query) String() string {
	var b strings.Builder
	writeSpanset(&b, q.Root)
	return b.String()
}

func writeSpanset(b *strings.Builder, s Spanset) {
	switch s := s.(type) {
	case Filter:
		if s.Cond == nil {
			b.WriteString("{}")
			return
		}
		b.WriteString("{ ")
		writeCond(b, s.Cond)
		b.WriteString(" }")
	case SpansetOp:
		b.WriteString("(")
		writeSpanset(b, s.L)
		b.WriteString(" " + setOpNames[s.Op] + " ")
		writeSpanset(b, s.R)
		b.WriteString(")")
	}
}

func writeCond(b *strings.Builder, c Cond) {
	switch c := c.(type) {
	case And:
		b.WriteString("(")
		writeCond(b, c.L)
		b.WriteString(" && ")
		writeCond(b, c.R)
		b.WriteString(")")
	case Or:
		b.WriteString("(")
		writeCond(b, c.L)
		b.WriteString(" || ")
		writeCond(b, c.R)
		b.WriteString(")")
	case Not:
		b.WriteString("!")
		writeCond(b, c.X)
	case BoolCond:
		if c.V {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case *Compare:
		writeField(b, c.Field)
		b.WriteString(" " + c.Op.String() + " ")
		b.WriteString(c.Value.String())
	}
}

// writeField quotes attribute names that the lexer would not read back
// whole.
func writeField(b *strings.Builder, f Field) {
	if f.Scope == ScopeIntrinsic {
		b.WriteString(f.Name)
		return
	}
	prefix := map[Scope]string{ScopeSpan: "span.", ScopeResource: "resource.", ScopeUnscoped: "."}[f.Scope]
	b.WriteString(prefix)
	if f.Name == "" || strings.ContainsAny(f.Name, attrStop+" \t\n\r\v\f'") || strings.ContainsFunc(f.Name, func(r rune) bool { return r > 0x7e || r < 0x21 }) {
		b.WriteString(Static{Type: TypeString, S: f.Name}.String())
		return
	}
	b.WriteString(f.Name)
}
