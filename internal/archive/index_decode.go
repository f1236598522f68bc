package archive

import (
	"bytes"
	"math"
	"strconv"
)

// decodeIndexLine parses a catalog line as appendIndexLine writes it,
// without reflection: a search over a day reads tens of thousands of
// lines and encoding/json was a third of its CPU. ok is false for any
// other shape (an escaped string, another field order, a line from
// another writer); the caller then uses encoding/json.
//
// prev, when not nil, is the line before: its key, kind and extension are
// reused when equal (a catalog's lines all name the same block), which
// spares an allocation per line and field.
func decodeIndexLine(line []byte, e *IndexEntry, prev *IndexEntry) bool {
	p := lineParser{b: line}
	if prev != nil {
		for i, v := range [3]string{prev.Key, string(prev.Kind), prev.Extension} {
			if plain(v) {
				p.prev[i] = v // only what str itself would return verbatim
			}
		}
	}
	*e = IndexEntry{}
	if !p.lit(`{`) {
		return false
	}
	if p.lit(`"trace_id":`) {
		if e.TraceID, p.ok = p.str(); !p.ok || !p.lit(`,`) {
			return false
		}
	}
	var kind string
	if !p.lit(`"key":`) {
		return false
	}
	e.Key, p.ok = p.strLike(0)
	if !p.ok || !p.lit(`,"kind":`) {
		return false
	}
	kind, p.ok = p.strLike(1)
	e.Kind = Kind(kind)
	if !p.ok || !p.lit(`,"pages":`) || !p.pages(e) || !p.lit(`,"count":`) {
		return false
	}
	e.Count = int(p.uint())
	if !p.ok || !p.lit(`,"bytes":`) {
		return false
	}
	e.Bytes = int(p.uint())
	if p.lit(`,"start":`) {
		e.Start = p.uint()
	}
	if p.lit(`,"end":`) {
		e.End = p.uint()
	}
	if p.lit(`,"extension":`) {
		e.Extension, p.ok = p.strLike(2)
	}
	if p.ok && p.lit(`,"root":`) {
		e.RootName, p.ok = p.str()
	}
	return p.ok && p.lit(`}`) && len(p.b) == 0
}

type lineParser struct {
	b    []byte
	ok   bool
	prev [3]string // the previous line's key, kind, extension
}

// strLike is str, returning the previous line's string i when equal.
func (p *lineParser) strLike(i int) (string, bool) {
	if v := p.prev[i]; v != "" && len(p.b) > len(v)+1 && p.b[len(v)+1] == '"' && string(p.b[1:len(v)+1]) == v && p.b[0] == '"' {
		p.b = p.b[len(v)+2:]
		return v, true
	}
	return p.str()
}

func (p *lineParser) lit(s string) bool {
	if len(p.b) >= len(s) && string(p.b[:len(s)]) == s {
		p.b = p.b[len(s):]
		p.ok = true
		return true
	}
	return false
}

// str reads a JSON string of printable ASCII without escapes (anything
// else goes to encoding/json, which validates and replaces as it does).
func (p *lineParser) str() (string, bool) {
	if len(p.b) == 0 || p.b[0] != '"' {
		return "", false
	}
	end := bytes.IndexByte(p.b[1:], '"')
	if end < 0 {
		return "", false
	}
	if !plain(p.b[1 : end+1]) {
		return "", false
	}
	s := string(p.b[1 : end+1])
	p.b = p.b[end+2:]
	return s, true
}

func (p *lineParser) uint() uint64 {
	n := 0
	for n < len(p.b) && p.b[n] >= '0' && p.b[n] <= '9' {
		n++
	}
	v, err := strconv.ParseUint(string(p.b[:n]), 10, 64)
	// JSON has no leading zeros; counts must fit an int.
	p.ok = err == nil && (n == 1 || p.b[0] != '0') && v <= math.MaxInt64
	p.b = p.b[n:]
	return v
}

func (p *lineParser) pages(e *IndexEntry) bool {
	if p.lit(`null`) {
		return true
	}
	if !p.lit(`[`) {
		return false
	}
	for !p.lit(`]`) {
		if len(e.Pages) > 0 && !p.lit(`,`) {
			return false
		}
		if !p.lit(`[`) {
			return false
		}
		off := p.uint()
		if !p.ok || !p.lit(`,`) {
			return false
		}
		n := p.uint()
		if !p.ok || !p.lit(`]`) {
			return false
		}
		e.Pages = append(e.Pages, [2]uint64{off, n})
	}
	return true
}

// plain: printable ASCII without quote or backslash, a JSON string's
// bytes as they are.
func plain[T string | []byte](s T) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
