// Package lookuprun is the format of the forensic archive's lookup runs:
// sorted tables mapping a trace id to the page of a block that holds its
// spans. It is pure encoding (no storage, no pdata), so it can be fuzzed
// cheaply and read by anything that holds a run's bytes.
package lookuprun

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
)

// A lookup run is a sorted table of fixed-size entries, then a footer of
// block keys and fences (the first trace id of every fenceEvery entries).
// The footer comes last so a run can be written as a stream (compaction
// merges runs of any size in bounded memory); a lookup reads the footer (cached: runs are immutable)
// and one slice of entries.
//
//	entries: trace id [16] | key index u32 | page offset u64 | page length u32 | written unix nanos i64
//	keys:    u16 length + bytes, each a block key
//	fences:  16-byte trace ids
//	trailer: u64 entries | u32 keys | u32 fenceEvery | u64 footer length | "SWRUN002"
const (
	magic           = "SWRUN002"
	TrailerSize     = 8 + 4 + 4 + 8 + len(magic) // the smallest run: no entries, keys or fences
	EntrySize       = 16 + 4 + 8 + 4 + 8         // entries are fixed-size, so a run is range-readable
	entriesPerFence = 256                        // 10 KiB of entries per read
	maxKeys         = 1 << 20
	maxKeyLength    = 1024
	maxFooterLength = 1 << 30
)

// Entry says: spans of trace ID, written at Written, are in the page
// [Off, Off+Len) of block Keys[Key].
type Entry struct {
	TraceID [16]byte
	Key     uint32
	Off     uint64
	Len     uint32
	Written int64
}

// Compare orders entries by trace id, then write time, block and offset:
// the order of a run, in which equal entries (the same write merged twice)
// are adjacent.
func Compare(a, b Entry) int {
	if c := bytes.Compare(a.TraceID[:], b.TraceID[:]); c != 0 {
		return c
	}
	switch {
	case a.Written != b.Written:
		return cmpInt(a.Written, b.Written)
	case a.Key != b.Key:
		return cmpInt(a.Key, b.Key)
	}
	return cmpInt(a.Off, b.Off)
}

func cmpInt[T int64 | uint32 | uint64](a, b T) int {
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	return 0
}

// Writer streams a run: entries in sorted order, then the footer.
type Writer struct {
	w      *bufio.Writer
	keys   []string
	n      uint64
	fences [][16]byte
	buf    [EntrySize]byte
}

// NewWriter starts a run over blocks keys on w.
func NewWriter(w io.Writer, keys []string) *Writer {
	return &Writer{w: bufio.NewWriterSize(w, 64<<10), keys: keys}
}

// Add appends e, which must not sort before the previous entry.
func (rw *Writer) Add(e Entry) error {
	if rw.n%entriesPerFence == 0 {
		rw.fences = append(rw.fences, e.TraceID)
	}
	rw.n++
	b := rw.buf[:0]
	b = append(b, e.TraceID[:]...)
	b = binary.LittleEndian.AppendUint32(b, e.Key)
	b = binary.LittleEndian.AppendUint64(b, e.Off)
	b = binary.LittleEndian.AppendUint32(b, e.Len)
	b = binary.LittleEndian.AppendUint64(b, uint64(e.Written))
	_, err := rw.w.Write(b)
	return err
}

// Finish writes the footer and flushes.
func (rw *Writer) Finish() error {
	var f []byte
	for _, k := range rw.keys {
		f = binary.LittleEndian.AppendUint16(f, uint16(len(k)))
		f = append(f, k...)
	}
	for _, id := range rw.fences {
		f = append(f, id[:]...)
	}
	f = binary.LittleEndian.AppendUint64(f, rw.n)
	f = binary.LittleEndian.AppendUint32(f, uint32(len(rw.keys)))
	f = binary.LittleEndian.AppendUint32(f, entriesPerFence)
	f = binary.LittleEndian.AppendUint64(f, uint64(len(f)+8+len(magic)))
	f = append(f, magic...)
	if _, err := rw.w.Write(f); err != nil {
		return err
	}
	return rw.w.Flush()
}

// Encode sorts entries and renders a whole run in memory (a write's
// level-0 run is small).
func Encode(keys []string, entries []Entry) []byte {
	slices.SortFunc(entries, Compare)
	var buf bytes.Buffer
	buf.Grow(len(entries)*EntrySize + 256)
	rw := NewWriter(&buf, keys)
	for _, e := range entries {
		_ = rw.Add(e) // a bytes.Buffer does not fail
	}
	_ = rw.Finish()
	return buf.Bytes()
}

// Header is a run's parsed footer.
type Header struct {
	Entries    int      // how many entries the run holds
	Keys       []string // the block keys entries name, by index
	fenceEvery int
	fences     [][16]byte
}

// ErrCorrupt is every decoding failure: a run is written whole or not at
// all, so a run that does not parse was damaged or forged.
var ErrCorrupt = errors.New("corrupt lookup run")

// KeyValidator says whether a footer may name key. Readers pass their
// layout's block-key parser, so that a corrupt or hostile run cannot make
// them fetch any other object.
type KeyValidator func(key string) bool

// FooterLength returns the footer length from a run's last bytes.
func FooterLength(tail []byte, size int64) (int64, error) {
	if len(tail) < TrailerSize || string(tail[len(tail)-len(magic):]) != magic {
		return 0, ErrCorrupt
	}
	n := int64(binary.LittleEndian.Uint64(tail[len(tail)-16:]))
	if n < int64(TrailerSize) || n > maxFooterLength || n > size {
		return 0, ErrCorrupt
	}
	return n, nil
}

// ParseFooter parses a whole footer of a run of size bytes. Every key
// must pass validKey.
func ParseFooter(f []byte, size int64, validKey KeyValidator) (*Header, error) {
	flen, err := FooterLength(f, size)
	if err != nil || int64(len(f)) != flen {
		return nil, ErrCorrupt
	}
	t := f[len(f)-TrailerSize:]
	n := binary.LittleEndian.Uint64(t)
	nk := int(binary.LittleEndian.Uint32(t[8:]))
	h := &Header{fenceEvery: int(binary.LittleEndian.Uint32(t[12:]))}
	if nk > maxKeys || h.fenceEvery <= 0 || n > uint64(size)/EntrySize ||
		int64(n)*EntrySize+flen != size {
		return nil, ErrCorrupt
	}
	h.Entries = int(n)
	body := f[:len(f)-TrailerSize]
	h.Keys = make([]string, 0, nk)
	for range nk {
		if len(body) < 2 {
			return nil, ErrCorrupt
		}
		kl := int(binary.LittleEndian.Uint16(body))
		if kl > maxKeyLength || len(body) < 2+kl {
			return nil, ErrCorrupt
		}
		k := string(body[2 : 2+kl])
		if !validKey(k) {
			return nil, fmt.Errorf("%w: %q is not a block key", ErrCorrupt, k)
		}
		h.Keys = append(h.Keys, k)
		body = body[2+kl:]
	}
	nf := (h.Entries + h.fenceEvery - 1) / h.fenceEvery
	if len(body) != nf*16 {
		return nil, ErrCorrupt
	}
	h.fences = make([][16]byte, nf)
	for i := range h.fences {
		copy(h.fences[i][:], body[i*16:])
	}
	return h, nil
}

// Span returns the entry indexes [lo, hi) that may hold id: from the last
// fence below id to the first fence above it.
func (h *Header) Span(id [16]byte) (lo, hi int) {
	first, _ := slices.BinarySearchFunc(h.fences, id, func(f, id [16]byte) int { return bytes.Compare(f[:], id[:]) })
	// fences[first] >= id; entries equal to id may start in the page before.
	last := first
	for last < len(h.fences) && h.fences[last] == id {
		last++
	}
	lo = max(first-1, 0) * h.fenceEvery
	hi = min(last*h.fenceEvery, h.Entries)
	return lo, hi
}

// ByteRange is where entries [lo, hi) are in the run object.
func (h *Header) ByteRange(lo, hi int) (off, length int64) {
	return int64(lo * EntrySize), int64((hi - lo) * EntrySize)
}

// DecodeEntry parses one entry; keys index into a footer of nk keys.
func DecodeEntry(b []byte, nk int) (Entry, error) {
	var e Entry
	copy(e.TraceID[:], b[:16])
	e.Key = binary.LittleEndian.Uint32(b[16:])
	e.Off = binary.LittleEndian.Uint64(b[20:])
	e.Len = binary.LittleEndian.Uint32(b[28:])
	e.Written = int64(binary.LittleEndian.Uint64(b[32:]))
	if int(e.Key) >= nk || e.Len == 0 || e.Len > MaxPageStored {
		return e, ErrCorrupt
	}
	return e, nil
}

// DecodeEntries parses consecutive entries.
func DecodeEntries(b []byte, nk int) ([]Entry, error) {
	if len(b)%EntrySize != 0 {
		return nil, ErrCorrupt
	}
	out := make([]Entry, len(b)/EntrySize)
	for i := range out {
		var err error
		if out[i], err = DecodeEntry(b[i*EntrySize:], nk); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// MaxPageStored bounds the page length an entry may name (pages are
// ~128 KiB raw): a forged entry cannot make a reader fetch gigabytes.
const MaxPageStored = 64 << 20

// Decode parses a whole run.
func Decode(b []byte, validKey KeyValidator) (*Header, []Entry, error) {
	flen, err := FooterLength(b, int64(len(b)))
	if err != nil {
		return nil, nil, err
	}
	h, err := ParseFooter(b[int64(len(b))-flen:], int64(len(b)), validKey)
	if err != nil {
		return nil, nil, err
	}
	entries, err := DecodeEntries(b[:int64(len(b))-flen], len(h.Keys))
	return h, entries, err
}
