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
func Paginate(raw []byte, target int, emit func(page []byte) error) (itemPage []int32, err error) {
	p := pager{target: target, emit: emit}
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

// ErrMalformed: the input is not a well-formed protobuf message.
var ErrMalformed = errors.New("malformed OTLP protobuf")

// pager accumulates the current page as resources of scopes of items
// (sub-slices of the input: nothing is copied until the page is cut).
type pager struct {
	target   int
	emit     func([]byte) error
	pages    int32  // pages emitted
	buf      []byte // the page being serialised, reused
	itemPage []int32
	cur      []pendingResource
	size     int
}

type pendingResource struct {
	header []byte // the resource's fields other than 2, concatenated
	scopes []pendingScope
}

type pendingScope struct {
	header []byte
	items  [][]byte // each a whole field: tag, length, bytes
}

// splitHeader returns msg's fields other than 2 (concatenated, as they
// are) and each field 2 whole.
func splitHeader(msg []byte) (header []byte, children [][]byte, err error) {
	for b := msg; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, nil, ErrMalformed
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return nil, nil, ErrMalformed
		}
		field := b[:n+m]
		if num == 2 && typ == protowire.BytesType {
			children = append(children, field)
		} else {
			header = append(header, field...)
		}
		b = b[n+m:]
	}
	return header, children, nil
}

// fieldValue strips a whole length-delimited field to its value.
func fieldValue(field []byte) []byte {
	_, _, n := protowire.ConsumeTag(field)
	v, _ := protowire.ConsumeBytes(field[n:])
	return v
}

func (p *pager) resource(msg []byte) error {
	rh, scopes, err := splitHeader(msg)
	if err != nil {
		return err
	}
	opened := false
	for _, sf := range scopes {
		sh, items, err := splitHeader(fieldValue(sf))
		if err != nil {
			return err
		}
		scopeOpen := false
		for _, it := range items {
			if p.size > 0 && p.size+len(it) > p.target {
				if err := p.flush(); err != nil {
					return err
				}
				opened, scopeOpen = false, false
			}
			if !opened {
				p.cur = append(p.cur, pendingResource{header: rh})
				p.size += len(rh) + 8
				opened = true
			}
			r := &p.cur[len(p.cur)-1]
			if !scopeOpen {
				r.scopes = append(r.scopes, pendingScope{header: sh})
				p.size += len(sh) + 8
				scopeOpen = true
			}
			s := &r.scopes[len(r.scopes)-1]
			s.items = append(s.items, it)
			p.size += len(it)
			p.itemPage = append(p.itemPage, p.pages)
		}
	}
	return nil
}

// flush serialises the pending page and emits it.
func (p *pager) flush() error {
	if len(p.cur) == 0 {
		return nil
	}
	out := p.buf[:0]
	for _, r := range p.cur {
		rlen := len(r.header)
		for _, s := range r.scopes {
			slen := scopeLen(s)
			rlen += protowire.SizeTag(2) + protowire.SizeBytes(slen)
		}
		out = protowire.AppendTag(out, 1, protowire.BytesType)
		out = protowire.AppendVarint(out, uint64(rlen))
		out = append(out, r.header...)
		for _, s := range r.scopes {
			out = protowire.AppendTag(out, 2, protowire.BytesType)
			out = protowire.AppendVarint(out, uint64(scopeLen(s)))
			out = append(out, s.header...)
			for _, it := range s.items {
				out = append(out, it...)
			}
		}
	}
	p.buf = out
	p.cur = p.cur[:0]
	p.size = 0
	p.pages++
	return p.emit(out)
}

func scopeLen(s pendingScope) int {
	n := len(s.header)
	for _, it := range s.items {
		n += len(it)
	}
	return n
}
