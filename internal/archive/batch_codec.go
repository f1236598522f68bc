package archive

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// A batch's binary form, what the forensic exporter's persistent queue
// stores:
//
//	"SWBATCH1" | kind u8 | names u32 | (u16 length + bytes)* | items u32 | items | raw OTLP (the rest)
//	item: trace id [16] | start u64 | end u64 | extension u32 | root u32
const (
	batchMagic    = "SWBATCH1"
	batchItemSize = 16 + 8 + 8 + 4 + 4
)

var (
	errCorruptBatch = errors.New("corrupt archive batch")
	// ErrNotABatch: the data does not start like a batch (it may be in
	// another encoding, e.g. a queue entry written by an older version).
	ErrNotABatch = errors.New("not an archive batch")
)

// MarshalBinary renders b; the result does not alias b.
func (b *Batch) MarshalBinary() ([]byte, error) {
	kind, ok := kindCode[b.Kind]
	if !ok {
		return nil, fmt.Errorf("batch of unknown kind %q", b.Kind)
	}
	size := len(batchMagic) + 1 + 4 + 4 + len(b.Items)*batchItemSize + len(b.Raw)
	for _, s := range b.Names {
		size += 2 + len(s)
	}
	out := make([]byte, 0, size)
	out = append(out, batchMagic...)
	out = append(out, kind)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(b.Names)))
	for _, s := range b.Names {
		out = binary.LittleEndian.AppendUint16(out, uint16(len(s))) // clip() bounds names to 256 bytes
		out = append(out, s...)
	}
	out = binary.LittleEndian.AppendUint32(out, uint32(len(b.Items)))
	for _, m := range b.Items {
		out = append(out, m.TraceID[:]...)
		out = binary.LittleEndian.AppendUint64(out, m.Start)
		out = binary.LittleEndian.AppendUint64(out, m.End)
		out = binary.LittleEndian.AppendUint32(out, m.Extension)
		out = binary.LittleEndian.AppendUint32(out, m.Root)
	}
	return append(out, b.Raw...), nil
}

var kindCode = map[Kind]byte{KindSpans: 1, KindLogs: 2}

// UnmarshalBatch parses a batch rendered by MarshalBinary. Every count and
// reference is checked against the input, so a damaged queue entry is an
// error, never a panic or a huge allocation. Raw is a sub-slice of data.
func UnmarshalBatch(data []byte) (*Batch, error) {
	d := batchReader{b: data}
	if string(d.bytes(len(batchMagic))) != batchMagic {
		return nil, ErrNotABatch
	}
	b := &Batch{}
	switch d.byte() {
	case 1:
		b.Kind = KindSpans
	case 2:
		b.Kind = KindLogs
	default:
		return nil, errCorruptBatch
	}
	nn := d.u32()
	if uint64(nn)*2 > uint64(len(d.b)) {
		return nil, errCorruptBatch
	}
	b.Names = make([]string, nn)
	for i := range b.Names {
		b.Names[i] = string(d.bytes(int(d.u16())))
	}
	ni := d.u32()
	if uint64(ni)*batchItemSize > uint64(len(d.b)) {
		return nil, errCorruptBatch
	}
	b.Items = make([]ItemMeta, ni)
	for i := range b.Items {
		m := &b.Items[i]
		copy(m.TraceID[:], d.bytes(16))
		m.Start, m.End = d.u64(), d.u64()
		m.Extension, m.Root = d.u32(), d.u32()
		if m.Extension > nn || m.Root > nn {
			return nil, errCorruptBatch
		}
	}
	if d.bad {
		return nil, errCorruptBatch
	}
	b.Raw = d.b
	return b, nil
}

// batchReader reads little-endian fields; past the end it yields zeros and
// sets bad.
type batchReader struct {
	b   []byte
	bad bool
}

func (d *batchReader) bytes(n int) []byte {
	if n > len(d.b) {
		d.bad, d.b = true, nil
		return make([]byte, n)
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *batchReader) byte() byte  { return d.bytes(1)[0] }
func (d *batchReader) u16() uint16 { return binary.LittleEndian.Uint16(d.bytes(2)) }
func (d *batchReader) u32() uint32 { return binary.LittleEndian.Uint32(d.bytes(4)) }
func (d *batchReader) u64() uint64 { return binary.LittleEndian.Uint64(d.bytes(8)) }
