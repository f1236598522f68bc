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
// array's key, so the elements of "paths": [...] and the members of
// "tools": [{...}] are seen with it), str the decoded string (isStr) or
// the raw literal of a number, true, false or null. Returning false stops
// the walk.
type jsonVisit func(parent, key, str string, isStr bool) bool

// walkJSON walks the first MaxJSONBytes of s. visit is only called, never
// kept, so a method value or closure passed here stays on the stack.
func walkJSON(s string, visit jsonVisit) {
	var w jsonWalker
	w.reset(s)
	for {
		parent, key, str, isStr, ok := w.next()
		if !ok || !visit(parent, key, str, isStr) {
			return
		}
	}
}

// jsonFrame is an open object or array: key is the key it was found
// under, parent the key of the container that holds it.
type jsonFrame struct {
	key, parent string
	array       bool
}

// jsonWalker is a pull parser: next returns the scalars in document
// order. It keeps an explicit stack (no recursion, no callback).
type jsonWalker struct {
	s       string
	i       int
	stack   [maxJSONDepth]jsonFrame
	depth   int
	started bool
	done    bool
}

func (w *jsonWalker) reset(s string) {
	if len(s) > MaxJSONBytes {
		s = s[:MaxJSONBytes]
	}
	w.s, w.i, w.depth, w.started, w.done = s, 0, 0, false, false
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

// next returns the next scalar; ok is false at the end of the document,
// at the byte bound, past the depth bound, or at malformed input.
func (w *jsonWalker) next() (parent, key, str string, isStr, ok bool) {
	for !w.done {
		w.ws()
		if w.i >= len(w.s) {
			break
		}
		c := w.s[w.i]
		switch {
		case w.depth == 0:
			if w.started {
				w.done = true
				continue
			}
			w.started = true
		case !w.stack[w.depth-1].array:
			f := &w.stack[w.depth-1]
			switch c {
			case '}':
				w.depth--
				w.i++
				continue
			case ',':
				w.i++
				continue
			case '"':
			default:
				w.done = true
				continue
			}
			k, good := w.str()
			w.ws()
			if !good || w.i >= len(w.s) || w.s[w.i] != ':' {
				w.done = true
				continue
			}
			w.i++
			w.ws()
			if w.i >= len(w.s) {
				w.done = true
				continue
			}
			parent, key, c = f.key, k, w.s[w.i]
		default:
			f := &w.stack[w.depth-1]
			switch c {
			case ']':
				w.depth--
				w.i++
				continue
			case ',':
				w.i++
				continue
			}
			parent, key = f.parent, f.key
		}
		switch c {
		case '{', '[':
			if w.depth == maxJSONDepth {
				w.done = true
				continue
			}
			w.stack[w.depth] = jsonFrame{key: key, parent: parent, array: c == '['}
			w.depth++
			w.i++
			continue
		case '"':
			v, good := w.str()
			if !good {
				w.done = true
				continue
			}
			return parent, key, v, true, true
		}
		start := w.i
		for w.i < len(w.s) {
			c := w.s[w.i]
			if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\r' || c == '\t' {
				break
			}
			w.i++
		}
		if w.i == start {
			w.done = true
			continue
		}
		return parent, key, w.s[start:w.i], false, true
	}
	w.done = true
	return "", "", "", false, false
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
