package archive

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// A lookup run maps trace ids to the pages holding their spans: a sorted
// table of fixed-size entries, then a footer of block keys and fences (the
// first trace id of every fenceEvery entries). The footer comes last so a
// run can be written as a stream (compaction merges runs of any size in
// bounded memory); a lookup reads the footer (cached: runs are immutable)
// and one slice of entries.
//
//	entries: trace id [16] | key index u32 | page offset u64 | page length u32 | written unix nanos i64
//	keys:    u16 length + bytes, each a block key
//	fences:  16-byte trace ids
//	trailer: u64 entries | u32 keys | u32 fenceEvery | u64 footer length | "SWRUN002"
const (
	runMagic        = "SWRUN002"
	runTrailerSize  = 8 + 4 + 4 + 8 + len(runMagic)
	runEntrySize    = 16 + 4 + 8 + 4 + 8
	runFenceEvery   = 256 // 10 KiB of entries per read
	maxRunKeys      = 1 << 20
	maxRunKeyLength = 1024
	maxFooterLength = 1 << 30
)

// runEntry says: spans of trace ID, written at Written, are in the page
// [Off, Off+Len) of block Keys[Key].
type runEntry struct {
	TraceID pcommon.TraceID
	Key     uint32
	Off     uint64
	Len     uint32
	Written int64
}

func compareEntries(a, b runEntry) int {
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

// runWriter streams a run: entries in sorted order, then the footer.
type runWriter struct {
	w      *bufio.Writer
	keys   []string
	n      uint64
	fences []pcommon.TraceID
	buf    [runEntrySize]byte
}

func newRunWriter(w io.Writer, keys []string) *runWriter {
	return &runWriter{w: bufio.NewWriterSize(w, 64<<10), keys: keys}
}

func (rw *runWriter) add(e runEntry) error {
	if rw.n%runFenceEvery == 0 {
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

// finish writes the footer and flushes.
func (rw *runWriter) finish() error {
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
	f = binary.LittleEndian.AppendUint32(f, runFenceEvery)
	f = binary.LittleEndian.AppendUint64(f, uint64(len(f)+8+len(runMagic)))
	f = append(f, runMagic...)
	if _, err := rw.w.Write(f); err != nil {
		return err
	}
	return rw.w.Flush()
}

// encodeRun sorts entries and renders a whole run in memory (a write's
// level-0 run is small).
func encodeRun(keys []string, entries []runEntry) []byte {
	slices.SortFunc(entries, compareEntries)
	var buf bytes.Buffer
	buf.Grow(len(entries)*runEntrySize + 256)
	rw := newRunWriter(&buf, keys)
	for _, e := range entries {
		_ = rw.add(e) // a bytes.Buffer does not fail
	}
	_ = rw.finish()
	return buf.Bytes()
}

// runHeader is a run's parsed footer.
type runHeader struct {
	entries    int
	keys       []string
	fenceEvery int
	fences     []pcommon.TraceID
}

var errCorruptRun = errors.New("corrupt lookup run")

// runFooterLength returns the footer length from a run's last bytes.
func runFooterLength(tail []byte, size int64) (int64, error) {
	if len(tail) < runTrailerSize || string(tail[len(tail)-len(runMagic):]) != runMagic {
		return 0, errCorruptRun
	}
	n := int64(binary.LittleEndian.Uint64(tail[len(tail)-16:]))
	if n < int64(runTrailerSize) || n > maxFooterLength || n > size {
		return 0, errCorruptRun
	}
	return n, nil
}

// parseRunFooter parses a whole footer of a run of size bytes. Every key
// must be a block key of this layout: a corrupt or hostile run cannot make
// a reader fetch anything else.
func parseRunFooter(f []byte, size int64) (*runHeader, error) {
	flen, err := runFooterLength(f, size)
	if err != nil || int64(len(f)) != flen {
		return nil, errCorruptRun
	}
	t := f[len(f)-runTrailerSize:]
	n := binary.LittleEndian.Uint64(t)
	nk := int(binary.LittleEndian.Uint32(t[8:]))
	h := &runHeader{fenceEvery: int(binary.LittleEndian.Uint32(t[12:]))}
	if nk > maxRunKeys || h.fenceEvery <= 0 || n > uint64(size)/runEntrySize ||
		int64(n)*runEntrySize+flen != size {
		return nil, errCorruptRun
	}
	h.entries = int(n)
	body := f[:len(f)-runTrailerSize]
	h.keys = make([]string, 0, nk)
	for range nk {
		if len(body) < 2 {
			return nil, errCorruptRun
		}
		kl := int(binary.LittleEndian.Uint16(body))
		if kl > maxRunKeyLength || len(body) < 2+kl {
			return nil, errCorruptRun
		}
		k := string(body[2 : 2+kl])
		if _, _, ok := ParseBlockKey(k); !ok {
			return nil, fmt.Errorf("%w: %q is not a block key", errCorruptRun, k)
		}
		h.keys = append(h.keys, k)
		body = body[2+kl:]
	}
	nf := (h.entries + h.fenceEvery - 1) / h.fenceEvery
	if len(body) != nf*16 {
		return nil, errCorruptRun
	}
	h.fences = make([]pcommon.TraceID, nf)
	for i := range h.fences {
		copy(h.fences[i][:], body[i*16:])
	}
	return h, nil
}

// span returns the entry indexes [lo, hi) that may hold id: from the last
// fence below id to the first fence above it.
func (h *runHeader) span(id pcommon.TraceID) (lo, hi int) {
	first, _ := slices.BinarySearchFunc(h.fences, id, func(f, id pcommon.TraceID) int { return bytes.Compare(f[:], id[:]) })
	// fences[first] >= id; entries equal to id may start in the page before.
	last := first
	for last < len(h.fences) && h.fences[last] == id {
		last++
	}
	lo = max(first-1, 0) * h.fenceEvery
	hi = min(last*h.fenceEvery, h.entries)
	return lo, hi
}

// byteRange is where entries [lo, hi) are in the run object.
func (h *runHeader) byteRange(lo, hi int) (off, length int64) {
	return int64(lo * runEntrySize), int64((hi - lo) * runEntrySize)
}

// decodeEntry parses one entry; keys index into a footer of nk keys.
func decodeEntry(b []byte, nk int) (runEntry, error) {
	var e runEntry
	copy(e.TraceID[:], b[:16])
	e.Key = binary.LittleEndian.Uint32(b[16:])
	e.Off = binary.LittleEndian.Uint64(b[20:])
	e.Len = binary.LittleEndian.Uint32(b[28:])
	e.Written = int64(binary.LittleEndian.Uint64(b[32:]))
	if int(e.Key) >= nk || e.Len == 0 || e.Len > maxPageStored {
		return e, errCorruptRun
	}
	return e, nil
}

// decodeEntries parses consecutive entries.
func decodeEntries(b []byte, nk int) ([]runEntry, error) {
	if len(b)%runEntrySize != 0 {
		return nil, errCorruptRun
	}
	out := make([]runEntry, len(b)/runEntrySize)
	for i := range out {
		var err error
		if out[i], err = decodeEntry(b[i*runEntrySize:], nk); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// maxPageStored bounds a page read: pages are ~PageSize raw.
const maxPageStored = 64 << 20

// decodeRun parses a whole run.
func decodeRun(b []byte) (*runHeader, []runEntry, error) {
	flen, err := runFooterLength(b, int64(len(b)))
	if err != nil {
		return nil, nil, err
	}
	h, err := parseRunFooter(b[int64(len(b))-flen:], int64(len(b)))
	if err != nil {
		return nil, nil, err
	}
	entries, err := decodeEntries(b[:int64(len(b))-flen], len(h.keys))
	return h, entries, err
}
