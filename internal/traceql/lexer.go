package traceql

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokKind is the class of a token.
type tokKind int

const (
	tokEOF tokKind = iota
	tokLBrace
	tokRBrace
	tokLParen
	tokRParen
	tokComma
	tokAnd   // &&
	tokOr    // ||
	tokNot   // !
	tokEq    // =
	tokNeq   // !=
	tokGt    // >
	tokGte   // >=
	tokLt    // <
	tokLte   // <=
	tokRe    // =~
	tokNRe   // !~
	tokDesc  // >>
	tokAnc   // <<
	tokTilde // ~
	tokPipe  // |
	tokMinus // -
	tokArith // + * / % ^ (recognised only to be refused by name)
	tokOther // structural operators outside the subset (!>, &>>, ...), refused by name
	tokIdent // a bare word: intrinsic, enum, keyword, function name
	tokColon // a colon intrinsic: span:name, trace:rootService ...
	tokAttr  // an attribute: .x, span.x, resource."a b"
	tokString
	tokNumber // 12, 1.5, 100ms, 1h30m
)

// token is one lexeme; text is its source, val its decoded value (the
// string of a string literal, the name of an attribute).
type token struct {
	kind  tokKind
	pos   int // byte offset in the query
	text  string
	val   string
	scope string // attributes: "span", "resource", "" (unscoped) or another scope word
}

// lexer splits a query into tokens on demand.
type lexer struct {
	src string
	pos int
}

// attrStop are the runes that end an unquoted attribute name.
const attrStop = "{}()=!<>&|~,\"`+*/%^"

func isIdentStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }
func isIdentRune(r rune) bool  { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// scopeWords may precede '.' to scope an attribute.
var scopeWords = map[string]bool{"span": true, "resource": true, "event": true, "link": true, "instrumentation": true, "parent": true}

// colonWords may precede ':' to name an intrinsic.
var colonWords = map[string]bool{"span": true, "trace": true, "event": true, "link": true, "instrumentation": true}

func (l *lexer) peekRune(off int) rune {
	if l.pos+off >= len(l.src) {
		return 0
	}
	r, _ := utf8.DecodeRuneInString(l.src[l.pos+off:])
	return r
}

// next returns the next token or a syntax error.
func (l *lexer) next() (token, error) {
	for l.pos < len(l.src) {
		r, n := utf8.DecodeRuneInString(l.src[l.pos:])
		if !unicode.IsSpace(r) {
			break
		}
		l.pos += n
	}
	start := l.pos
	if l.pos >= len(l.src) {
		return token{kind: tokEOF, pos: start}, nil
	}
	two := ""
	if l.pos+2 <= len(l.src) {
		two = l.src[l.pos : l.pos+2]
	}
	op := func(k tokKind, n int) (token, error) {
		l.pos += n
		return token{kind: k, pos: start, text: l.src[start:l.pos]}, nil
	}
	// Structural and union operators outside the subset, longest first.
	for _, o := range []string{"!>>", "!<<", "&>>", "&<<", "&>", "&<", "&~", "!>", "!<"} {
		if strings.HasPrefix(l.src[l.pos:], o) {
			return op(tokOther, len(o))
		}
	}
	switch two {
	case "&&":
		return op(tokAnd, 2)
	case "||":
		return op(tokOr, 2)
	case "!=":
		return op(tokNeq, 2)
	case ">=":
		return op(tokGte, 2)
	case "<=":
		return op(tokLte, 2)
	case "=~":
		return op(tokRe, 2)
	case "!~":
		return op(tokNRe, 2)
	case ">>":
		return op(tokDesc, 2)
	case "<<":
		return op(tokAnc, 2)
	}
	c := l.src[l.pos]
	switch c {
	case '{':
		return op(tokLBrace, 1)
	case '}':
		return op(tokRBrace, 1)
	case '(':
		return op(tokLParen, 1)
	case ')':
		return op(tokRParen, 1)
	case ',':
		return op(tokComma, 1)
	case '!':
		return op(tokNot, 1)
	case '=':
		return op(tokEq, 1)
	case '>':
		return op(tokGt, 1)
	case '<':
		return op(tokLt, 1)
	case '~':
		return op(tokTilde, 1)
	case '|':
		return op(tokPipe, 1)
	case '-':
		return op(tokMinus, 1)
	case '+', '*', '/', '%', '^':
		return op(tokArith, 1)
	case '&':
		return token{}, errAt(start, "unexpected '&' (did you mean &&?)")
	case '"', '`':
		s, err := l.stringLit()
		if err != nil {
			return token{}, err
		}
		return token{kind: tokString, pos: start, text: l.src[start:l.pos], val: s}, nil
	case '.':
		l.pos++
		name, err := l.attrName()
		if err != nil {
			return token{}, err
		}
		return token{kind: tokAttr, pos: start, text: l.src[start:l.pos], val: name}, nil
	}
	if c >= '0' && c <= '9' {
		return l.number(start)
	}
	r, _ := utf8.DecodeRuneInString(l.src[l.pos:])
	if !isIdentStart(r) {
		return token{}, errAt(start, "unexpected character %q", r)
	}
	word := l.word()
	switch {
	case scopeWords[word] && l.peekRune(0) == '.':
		l.pos++
		name, err := l.attrName()
		if err != nil {
			return token{}, err
		}
		return token{kind: tokAttr, pos: start, text: l.src[start:l.pos], val: name, scope: word}, nil
	case colonWords[word] && l.peekRune(0) == ':':
		l.pos++
		if !isIdentStart(l.peekRune(0)) {
			return token{}, errAt(l.pos, "expected an intrinsic name after %q", word+":")
		}
		name := l.word()
		return token{kind: tokColon, pos: start, text: l.src[start:l.pos], val: name, scope: word}, nil
	}
	return token{kind: tokIdent, pos: start, text: word, val: word}, nil
}

func (l *lexer) word() string {
	start := l.pos
	for l.pos < len(l.src) {
		r, n := utf8.DecodeRuneInString(l.src[l.pos:])
		if !isIdentRune(r) {
			break
		}
		l.pos += n
	}
	return l.src[start:l.pos]
}

// attrName reads an attribute name after its '.': quoted, or up to
// whitespace or an operator.
func (l *lexer) attrName() (string, error) {
	if l.pos < len(l.src) && l.src[l.pos] == '"' {
		return l.stringLit()
	}
	start := l.pos
	for l.pos < len(l.src) {
		r, n := utf8.DecodeRuneInString(l.src[l.pos:])
		if unicode.IsSpace(r) || strings.ContainsRune(attrStop, r) || r == utf8.RuneError {
			break
		}
		l.pos += n
	}
	if l.pos == start {
		return "", errAt(start, "expected an attribute name after '.'")
	}
	return l.src[start:l.pos], nil
}

// stringLit reads "..." (Go escapes) or `...` (raw).
func (l *lexer) stringLit() (string, error) {
	start := l.pos
	q := l.src[l.pos]
	l.pos++
	if q == '`' {
		end := strings.IndexByte(l.src[l.pos:], '`')
		if end < 0 {
			return "", errAt(start, "unterminated raw string")
		}
		s := l.src[l.pos : l.pos+end]
		l.pos += end + 1
		return s, nil
	}
	// Find the closing quote, then decode as Go does; a string that Go
	// rejects (regex escapes such as \d) keeps its backslashes.
	end := -1
	for i := l.pos; i < len(l.src); i++ {
		if l.src[i] == '\\' {
			i++
			continue
		}
		if l.src[i] == '"' {
			end = i
			break
		}
	}
	if end < 0 {
		return "", errAt(start, "unterminated string")
	}
	quoted := l.src[start : end+1]
	l.pos = end + 1
	if s, err := strconv.Unquote(quoted); err == nil {
		return s, nil
	}
	var b strings.Builder
	body := quoted[1 : len(quoted)-1]
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c != '\\' || i+1 >= len(body) {
			b.WriteByte(c)
			continue
		}
		i++
		switch e := body[i]; e {
		case '"', '\\':
			b.WriteByte(e)
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		default:
			b.WriteByte('\\')
			b.WriteByte(e)
		}
	}
	return b.String(), nil
}

// number reads an int, a float or a duration (a number followed by units,
// possibly compound: 1h30m).
func (l *lexer) number(start int) (token, error) {
	for l.pos < len(l.src) {
		r, n := utf8.DecodeRuneInString(l.src[l.pos:])
		if !(r == '.' || r == 'µ' || isIdentRune(r)) {
			break
		}
		l.pos += n
	}
	text := l.src[start:l.pos]
	return token{kind: tokNumber, pos: start, text: text, val: text}, nil
}
