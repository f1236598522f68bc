// Package otlppage cuts marshaled OTLP batches into pages of whole spans
// or log records, working on the protobuf wire bytes. It is pure encoding
// (protowire only), so it can be fuzzed cheaply.
package otlppage

import (
	"errors"

	"google.golang.org/protobuf/encoding/protowire"
)

// Paginate cuts a marshaled OTLP TracesData or LogsData into pages of
// whole items (spans or log records), each page itself a valid TracesData
// or LogsData. Both messages have the same shape, which is all this needs:
//
//	data:      1 = resource_{spans,logs} (repeated)
//	resource:  1 = resource, 2 = scope_{spans,logs} (repeated), 3 = schema_url
//	scope:     1 = scope,    2 = spans / log_records (repeated), 3 = schema_url
//
// Working on the wire bytes spares copying every span into a per-page
// pdata tree: an item's bytes are copied once, next to its resource and
// scope headers (every field but 2, repeated once per page they appear
// in). Each page is handed to emit as it is cut (the slice is reused
// after emit returns); Paginate returns, for the n-th item in wire order
// (pdata's order), the page it landed in.
//
// A page is cut before an item that would take it past target bytes
// (headers counted with 8 bytes of framing each), so an item larger
// than target gets a page of its own. Fields of the data message other
// than 1, and resources and scopes without items, are left out.
func Paginate(raw []byte, target int, emit func(page []byte) error) (itemPage []int32, err error) {
	var p Pager
	return p.Paginate(raw, target, emit)
}

// ErrMalformed: the input is not a well-formed protobuf message.
var ErrMalformed = errors.New("malformed OTLP protobuf")

// Pager is Paginate with its working memory kept between calls: a
// caller that cuts many batches keeps one (it is not safe for concurrent
// use). The returned item pages are valid until the next call.
type Pager struct {
	target   int
	emit     func([]byte) error
	pages    int32  // pages emitted
	buf      []byte // the page being serialised
	itemPage []int32
	size     int // the pending page's size, as target counts it

	// The pending page: resources of scopes of item runs. Header
	// bytes live in hdr (copied once per resource or scope, whatever
	// the number of pages they appear in); items are sub-slices of the
	// input, adjacent ones merged into one run.
	hdr    []byte
	res    []pendingResource
	scopes []pendingScope
	runs   [][]byte
}

// span is a range of Pager.hdr.
type span struct{ off, len int }

type pendingResource struct {
	header span
	scopes int // first of its scopes in Pager.scopes; they run to the next resource's
}

type pendingScope struct {
	header span
	runs   int // first of its item runs in Pager.runs
	bytes  int // its items' bytes
}

// Paginate is the package's Paginate on p's memory.
func (p *Pager) Paginate(raw []byte, target int, emit func(page []byte) error) (itemPage []int32, err error) {
	p.target, p.emit, p.pages, p.size = target, emit, 0, 0
	p.itemPage, p.hdr = p.itemPage[:0], p.hdr[:0]
	p.res, p.scopes, p.runs = p.res[:0], p.scopes[:0], p.runs[:0]
	defer func() { p.emit = nil }() // do not pin the caller's closure
	for len(raw) > 0 {
		num, typ, n := protowire.ConsumeTag(raw)
		if n < 0 {
			return nil, ErrMalformed
		}
		raw = raw[n:]
		if num != 1 || typ != protowire.BytesType {
			n = protowire.ConsumeFieldValue(num, typ, raw)
			if n < 0 {
				return nil, ErrMalformed
			}
			raw = raw[n:]
			continue
		}
		res, n := protowire.ConsumeBytes(raw)
		if n < 0 {
			return nil, ErrMalformed
		}
		raw = raw[n:]
		if err := p.resource(res); err != nil {
			return nil, err
		}
	}
	if err := p.flush(); err != nil {
		return nil, err
	}
	return p.itemPage, nil
}

// header copies msg's fields other than 2 into p.hdr, as they are and in
// their order, after checking that every field is well formed.
func (p *Pager) header(msg []byte) (span, error) {
	h := span{off: len(p.hdr)}
	for b := msg; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return h, ErrMalformed
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return h, ErrMalformed
		}
		if num != 2 || typ != protowire.BytesType {
			p.hdr = append(p.hdr, b[:n+m]...)
		}
		b = b[n+m:]
	}
	h.len = len(p.hdr) - h.off
	return h, nil
}

// nextChild returns the next field 2 of msg, whole (tag, length, bytes),
// and what follows it; ok is false when none is left. msg was checked
// by header.
func nextChild(msg []byte) (child, rest []byte, ok bool) {
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		m := protowire.ConsumeFieldValue(num, typ, msg[n:])
		if num == 2 && typ == protowire.BytesType {
			return msg[:n+m], msg[n+m:], true
		}
		msg = msg[n+m:]
	}
	return nil, nil, false
}

func (p *Pager) resource(msg []byte) error {
	rh, err := p.header(msg)
	if err != nil {
		return err
	}
	opened := false
	for sf, rest, ok := nextChild(msg); ok; sf, rest, ok = nextChild(rest) {
		scope := fieldValue(sf)
		sh, err := p.header(scope)
		if err != nil {
			return err
		}
		scopeOpen := false
		for it, more, ok := nextChild(scope); ok; it, more, ok = nextChild(more) {
			if p.size > 0 && p.size+len(it) > p.target {
				if err := p.flush(); err != nil {
					return err
				}
				opened, scopeOpen = false, false
			}
			if !opened {
				p.res = append(p.res, pendingResource{header: rh, scopes: len(p.scopes)})
				p.size += rh.len + 8
				opened = true
			}
			if !scopeOpen {
				p.scopes = append(p.scopes, pendingScope{header: sh, runs: len(p.runs)})
				p.size += sh.len + 8
				scopeOpen = true
			}
			s := &p.scopes[len(p.scopes)-1]
			if n := len(p.runs); n > s.runs && adjacent(p.runs[n-1], it) {
				p.runs[n-1] = p.runs[n-1][:len(p.runs[n-1])+len(it)]
			} else {
				p.runs = append(p.runs, it)
			}
			s.bytes += len(it)
			p.size += len(it)
			p.itemPage = append(p.itemPage, p.pages)
		}
	}
	return nil
}

// adjacent: b starts where a ends, in the same input.
func adjacent(a, b []byte) bool {
	return cap(a) > len(a) && cap(a)-len(a) == cap(b) && &a[:len(a)+1][len(a)] == &b[:1][0]
}

// fieldValue strips a whole length-delimited field to its value.
func fieldValue(field []byte) []byte {
	_, _, n := protowire.ConsumeTag(field)
	v, _ := protowire.ConsumeBytes(field[n:])
	return v
}

// flush serialises the pending page and emits it.
func (p *Pager) flush() error {
	if len(p.res) == 0 {
		return nil
	}
	out := p.buf[:0]
	for r := range p.res {
		scopes := p.scopes[p.res[r].scopes:p.scopesEnd(r)]
		h := p.res[r].header
		rlen := h.len
		for _, s := range scopes {
			slen := s.header.len + s.bytes
			rlen += protowire.SizeTag(2) + protowire.SizeBytes(slen)
		}
		out = protowire.AppendTag(out, 1, protowire.BytesType)
		out = protowire.AppendVarint(out, uint64(rlen))
		out = append(out, p.hdr[h.off:h.off+h.len]...)
		for i, s := range scopes {
			out = protowire.AppendTag(out, 2, protowire.BytesType)
			out = protowire.AppendVarint(out, uint64(s.header.len+s.bytes))
			out = append(out, p.hdr[s.header.off:s.header.off+s.header.len]...)
			runsEnd := len(p.runs)
			if next := p.res[r].scopes + i + 1; next < len(p.scopes) {
				runsEnd = p.scopes[next].runs
			}
			for _, run := range p.runs[s.runs:runsEnd] {
				out = append(out, run...)
			}
		}
	}
	p.buf = out
	p.res, p.scopes, p.runs = p.res[:0], p.scopes[:0], p.runs[:0]
	p.size = 0
	p.pages++
	return p.emit(out)
}

// scopesEnd is the end of resource r's scopes in p.scopes.
func (p *Pager) scopesEnd(r int) int {
	if r+1 < len(p.res) {
		return p.res[r+1].scopes
	}
	return len(p.scopes)
}
