package secrets

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// JSON-escaped secrets. Tool arguments and results travel as JSON strings
// (gen_ai.tool.call.arguments, traceloop.entity.input, Claude's
// tool_input...), and inside them a credential may be written with
// escapes: "\u0041KIA..." (an encoder may write any character as \uXXXX),
// "https:\/\/...", or a JSON document nested in a JSON string, whose
// quotes arrive as \" (a service-account key returned by a tool). Every
// JSON reader sees the credential; a keyword or a regex over the raw text
// does not. So a value that holds an escape is read decoded, and what is
// found there is redacted in the raw text: each finding's bounds are
// mapped back to whole escape sequences. In a value shaped like a JSON
// document, a finding is also kept within one JSON string (a greedy rule
// must not swallow a closing quote), and the marker holds no quote or
// backslash, so a valid JSON document stays valid. A value without a
// backslash pays one IndexByte; one with escapes pays a decoded copy.

// decodeJSONEscapes decodes the JSON string escapes of v (\" \\ \/ \b \f
// \n \r \t \uXXXX) and returns, for every byte of the decoded string and
// one past its end, the offset in v where the escape or character that
// produced it starts. A malformed escape is kept as written. dec is ""
// when v holds no escape.
func decodeJSONEscapes(v string) (dec string, offs []int32) {
	if strings.IndexByte(v, '\\') < 0 || len(v) > 1<<30 {
		return "", nil
	}
	b := make([]byte, 0, len(v))
	offs = make([]int32, 0, len(v)+1)
	changed := false
	for i := 0; i < len(v); {
		c := v[i]
		if c != '\\' || i+1 >= len(v) {
			b = append(b, c)
			offs = append(offs, int32(i))
			i++
			continue
		}
		var d byte
		switch v[i+1] {
		case '"', '\\', '/':
			d = v[i+1]
		case 'b':
			d = '\b'
		case 'f':
			d = '\f'
		case 'n':
			d = '\n'
		case 'r':
			d = '\r'
		case 't':
			d = '\t'
		case 'u':
			if r, ok := hex4(v[i+2:]); ok && utf8.ValidRune(r) {
				n := len(b)
				b = utf8.AppendRune(b, r)
				for range len(b) - n {
					offs = append(offs, int32(i))
				}
				i += 6
				changed = true
				continue
			}
			b = append(b, c)
			offs = append(offs, int32(i))
			i++
			continue
		default:
			b = append(b, c)
			offs = append(offs, int32(i))
			i++
			continue
		}
		b = append(b, d)
		offs = append(offs, int32(i))
		i += 2
		changed = true
	}
	if !changed {
		return "", nil
	}
	offs = append(offs, int32(len(v)))
	return string(b), offs
}

// hex4 reads four hex digits (a surrogate half is not a character: false).
func hex4(s string) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var r rune
	for i := 0; i < 4; i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	if 0xD800 <= r && r <= 0xDFFF {
		return 0, false
	}
	return r, true
}

// snapToEscapes widens [start, end) of the raw text to whole escape
// sequences (offs: the raw start of every decoded byte, and the end).
func snapToEscapes(offs []int32, start, end int) (int, int) {
	k, _ := slices.BinarySearch(offs, int32(start))
	if k < len(offs) && int(offs[k]) > start && k > 0 {
		k--
	}
	e, _ := slices.BinarySearch(offs, int32(end))
	if e >= len(offs) {
		e = len(offs) - 1
	}
	return int(offs[k]), int(offs[e])
}

// findInJSONStrings also reads every string of a JSON document on its own,
// decoded: a rule that wants its secret followed by a space or the end of
// the value (curl -u 'user:pass') must not miss it because a closing quote
// follows in the document. dec and offs are v decoded (dec "" when v has
// no escape): a string's decoded form is a slice of dec, so nothing is
// decoded twice. Only a string that holds a keyword (rawHits in v,
// decHits in dec) is read again.
func (s *Scanner) findInJSONStrings(v, dec string, offs []int32, fs []finding, rawHits, decHits *keywordHits) []finding {
	for i := 0; i < len(v); i++ {
		if v[i] != '"' {
			continue
		}
		start := i + 1
		j := start
		for j < len(v) && v[j] != '"' {
			if v[j] == '\\' {
				j++
			}
			j++
		}
		j = min(j, len(v))
		if j-start >= 8 {
			n := len(fs)
			if dec == "" {
				if !rawHits.within(start, j) {
					i = j
					continue
				}
				fs = s.find(v[start:j], fs)
				for k := n; k < len(fs); k++ {
					fs[k].start, fs[k].end = start+fs[k].start, start+fs[k].end
				}
			} else {
				d0, _ := slices.BinarySearch(offs, int32(start))
				d1, _ := slices.BinarySearch(offs, int32(j))
				if !rawHits.within(start, j) && !decHits.within(d0, d1) {
					i = j
					continue
				}
				fs = s.find(dec[d0:d1], fs)
				for k := n; k < len(fs); k++ {
					fs[k].start, fs[k].end = int(offs[d0+fs[k].start]), int(offs[d0+fs[k].end])
				}
			}
		}
		i = j
	}
	return fs
}

// jsonShaped: the value starts (after spaces) like a JSON object or array.
func jsonShaped(v string) bool {
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case ' ', '\t', '\n', '\r':
			continue
		case '{', '[':
			return true
		}
		return false
	}
	return false
}

// clampToJSONStrings keeps every finding inside one JSON string of v: a
// finding that starts inside a string ends at that string's closing
// quote; one that starts in the document's syntax (a rule that matched
// `"key": "value"`) keeps the part inside the last string it reaches.
func clampToJSONStrings(v string, fs []finding) []finding {
	for i := range fs {
		f := &fs[i]
		inStr, strStart := false, 0
		lastStart, lastEnd := -1, -1 // the last string content overlapping f
		for j := 0; j < len(v) && j < f.end; j++ {
			switch c := v[j]; {
			case c == '\\' && inStr:
				j++
			case c == '"':
				if !inStr {
					inStr, strStart = true, j+1
					continue
				}
				inStr = false
				if j > f.start && strStart < f.end {
					lastStart, lastEnd = strStart, j
				}
				if strStart <= f.start && f.start < j { // f starts inside this string
					f.end = min(f.end, j)
				}
			}
		}
		if inStr && strStart <= f.start {
			continue // f lies in one (unterminated or final) string
		}
		if inStr && strStart < f.end {
			lastStart, lastEnd = strStart, f.end
		}
		if lastStart < 0 {
			f.end = f.start // only syntax: nothing of a string to redact
			continue
		}
		if f.start < lastStart || f.end > lastEnd {
			f.start, f.end = max(f.start, lastStart), min(f.end, lastEnd)
		}
	}
	return fs
}
