package sandboxevent

import (
	"strconv"
	"unicode/utf8"
)

// The agent emitters record tool arguments and results as JSON strings
// (gen_ai.tool.call.arguments, traceloop.entity.input, Claude's
// tool_input...). walkJSON reads such a string without decoding it into
// maps: it calls a visitor with every scalar value and the two innermost
// keys above it, stops at MaxJSONBytes or maxJSONDepth, and never fails:
// on malformed input it stops and keeps what it has seen. Strings without
// escapes are handed over as sub-strings of the input (no copy).

// MaxJSONBytes is the most bytes of one JSON attribute the event model
// reads. A tool result can be a whole file; its targets sit in the first
// few hundred bytes of an arguments object.
const MaxJSONBytes = 64 << 10

const maxJSONDepth = 16

// jsonVisit receives a scalar: parent is the key of the enclosing object
// ("" at the top), key the value's own key (an array's elements carry the
// array's key),
// str the decoded string (isStr) or the raw literal of a number, true,
// false or null. Returning false stops the walk.
type jsonVisit func(parent, key, str string, isStr bool) bool

type jsonWalker struct {
	s     string
	i     int
	depth int
	visit jsonVisit
	stop  bool
}

// walkJSON walks the first MaxJSONBytes of s.
func walkJSON(s string, visit jsonVisit) {
	if len(s) > MaxJSONBytes {
		s = s[:MaxJSONBytes]
	}
	w := jsonWalker{s: s, visit: visit}
	w.value("", "")
}

func (w *jsonWalker) ws() {
	for w.i < len(w.s) {
		switch w.s[w.i] {
		case ' ', '\t', '\n', '\r':
			w.i++
		default:
			return
		}
	}
}

// value reads one value whose key is key inside parent.
func (w *jsonWalker) value(parent, key string) {
	w.ws()
	if w.stop || w.i >= len(w.s) {
		w.stop = true
		return
	}
	switch c := w.s[w.i]; c {
	case '{':
		w.object(key)
	case '[':
		w.array(parent, key)
	case '"':
		str, ok := w.str()
		if !ok {
			w.stop = true
			return
		}
		if !w.visit(parent, key, str, true) {
			w.stop = true
		}
	default:
		start := w.i
		for w.i < len(w.s) {
			c := w.s[w.i]
			if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\r' || c == '\t' {
				break
			}
			w.i++
		}
		if w.i == start {
			w.stop = true
			return
		}
		if !w.visit(parent, key, w.s[start:w.i], false) {
			w.stop = true
		}
	}
}

func (w *jsonWalker) object(key string) {
	w.i++ // '{'
	if w.depth++; w.depth > maxJSONDepth {
		w.stop = true
		return
	}
	defer func() { w.depth-- }()
	for !w.stop {
		w.ws()
		if w.i >= len(w.s) {
			w.stop = true
			return
		}
		if w.s[w.i] == '}' {
			w.i++
			return
		}
		if w.s[w.i] == ',' {
			w.i++
			continue
		}
		if w.s[w.i] != '"' {
			w.stop = true
			return
		}
		k, ok := w.str()
		if !ok {
			w.stop = true
			return
		}
		w.ws()
		if w.i >= len(w.s) || w.s[w.i] != ':' {
			w.stop = true
			return
		}
		w.i++
		w.value(key, k)
	}
}

// array visits its elements under the array's own key, so that the
// elements of "paths": [...] and the members of "tools": [{...}] are seen
// with that key.
func (w *jsonWalker) array(parent, key string) {
	w.i++ // '['
	if w.depth++; w.depth > maxJSONDepth {
		w.stop = true
		return
	}
	defer func() { w.depth-- }()
	for !w.stop {
		w.ws()
		if w.i >= len(w.s) {
			w.stop = true
			return
		}
		switch w.s[w.i] {
		case ']':
			w.i++
			return
		case ',':
			w.i++
			continue
		}
		w.value(parent, key)
	}
}

// str reads a JSON string at w.i (on the opening quote). Without escapes it
// returns a sub-string of the input; with escapes, a decoded copy.
func (w *jsonWalker) str() (string, bool) {
	start := w.i + 1
	escaped := false
	for j := start; j < len(w.s); j++ {
		switch w.s[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			w.i = j + 1
			if !escaped {
				return w.s[start:j], true
			}
			return unescapeJSON(w.s[start:j]), true
		}
	}
	w.i = len(w.s)
	return "", false
}

// unescapeJSON decodes the escapes of a JSON string body; a malformed
// escape is kept as written.
func unescapeJSON(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b = append(b, c)
			continue
		}
		i++
		switch s[i] {
		case '"', '\\', '/':
			b = append(b, s[i])
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			if i+4 < len(s) {
				if r, err := strconv.ParseUint(s[i+1:i+5], 16, 32); err == nil {
					b = utf8.AppendRune(b, rune(r))
					i += 4
					continue
				}
			}
			b = append(b, '\\', 'u')
		default:
			b = append(b, '\\', s[i])
		}
	}
	return string(b)
}
