package archive

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// A lookup run maps trace ids to the pages holding their spans: a sorted
// table of fixed-size entries behind a header of block keys and fences
// (the first trace id of every fenceEvery entries), so a lookup reads the
// header (cached: runs are immutable) and one slice of entries.
//
//	magic "SWRUN001" | u32 header length | u32 keys | u32 entries | u32 fenceEvery
//	keys:    u16 length + bytes, each a block key
//	fences:  16-byte trace ids
//	entries: trace id [16] | key index u32 | page offset u64 | page length u32 | written unix nanos i64
const (
	runMagic        = "SWRUN001"
	runFixedHeader  = len(runMagic) + 16
	runEntrySize    = 16 + 4 + 8 + 4 + 8
	runFenceEvery   = 256 // 10 KiB of entries per read
	maxRunKeys      = 1 << 20
	maxRunKeyLength = 1024
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
	if a.Written != b.Written {
		if a.Written < b.Written {
			return -1
		}
		return 1
	}
	if a.Key != b.Key {
		if a.Key < b.Key {
			return -1
		}
		return 1
	}
	if a.Off != b.Off {
		if a.Off < b.Off {
			return -1
		}
		return 1
	}
	return 0
}

// encodeRun sorts entries and renders the run.
func encodeRun(keys []string, entries []runEntry) []byte {
	slices.SortFunc(entries, compareEntries)
	nf := (len(entries) + runFenceEvery - 1) / runFenceEvery
	hlen := runFixedHeader + nf*16
	for _, k := range keys {
		hlen += 2 + len(k)
	}
	out := make([]byte, 0, hlen+len(entries)*runEntrySize)
	out = append(out, runMagic...)
	out = binary.LittleEndian.AppendUint32(out, uint32(hlen))
	out = binary.LittleEndian.AppendUint32(out, uint32(len(keys)))
	out = binary.LittleEndian.AppendUint32(out, uint32(len(entries)))
	out = binary.LittleEndian.AppendUint32(out, runFenceEvery)
	for _, k := range keys {
		out = binary.LittleEndian.AppendUint16(out, uint16(len(k)))
		out = append(out, k...)
	}
	for i := 0; i < len(entries); i += runFenceEvery {
		out = append(out, entries[i].TraceID[:]...)
	}
	for _, e := range entries {
		out = append(out, e.TraceID[:]...)
		out = binary.LittleEndian.AppendUint32(out, e.Key)
		out = binary.LittleEndian.AppendUint64(out, e.Off)
		out = binary.LittleEndian.AppendUint32(out, e.Len)
		out = binary.LittleEndian.AppendUint64(out, uint64(e.Written))
	}
	return out
}

// runHeader is a parsed run header.
type runHeader struct {
	length     int // bytes before the first entry
	keys       []string
	entries    int
	fenceEvery int
	fences     []pcommon.TraceID
}

var errCorruptRun = errors.New("corrupt lookup run")

// runHeaderLength returns the header length from a run's first bytes.
func runHeaderLength(b []byte) (int, error) {
	if len(b) < runFixedHeader || string(b[:len(runMagic)]) != runMagic {
		return 0, errCorruptRun
	}
	n := int(binary.LittleEndian.Uint32(b[8:]))
	if n < runFixedHeader || n > 1<<30 {
		return 0, errCorruptRun
	}
	return n, nil
}

// parseRunHeader parses a whole header (b holds at least its length).
// Every key must be a block key of this layout: a corrupt or hostile run
// cannot make a reader fetch anything else.
func parseRunHeader(b []byte) (*runHeader, error) {
	hlen, err := runHeaderLength(b)
	if err != nil {
		return nil, err
	}
	if len(b) < hlen {
		return nil, errCorruptRun
	}
	h := &runHeader{length: hlen}
	nk := int(binary.LittleEndian.Uint32(b[12:]))
	h.entries = int(binary.LittleEndian.Uint32(b[16:]))
	h.fenceEvery = int(binary.LittleEndian.Uint32(b[20:]))
	if nk > maxRunKeys || h.fenceEvery <= 0 || h.entries < 0 {
		return nil, errCorruptRun
	}
	p := runFixedHeader
	h.keys = make([]string, 0, nk)
	for range nk {
		if p+2 > hlen {
			return nil, errCorruptRun
		}
		kl := int(binary.LittleEndian.Uint16(b[p:]))
		p += 2
		if kl > maxRunKeyLength || p+kl > hlen {
			return nil, errCorruptRun
		}
		k := string(b[p : p+kl])
		if _, _, ok := ParseBlockKey(k); !ok {
			return nil, fmt.Errorf("%w: %q is not a block key", errCorruptRun, k)
		}
		h.keys = append(h.keys, k)
		p += kl
	}
	nf := (h.entries + h.fenceEvery - 1) / h.fenceEvery
	if p+nf*16 != hlen {
		return nil, errCorruptRun
	}
	h.fences = make([]pcommon.TraceID, nf)
	for i := range h.fences {
		copy(h.fences[i][:], b[p:p+16])
		p += 16
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
	return int64(h.length + lo*runEntrySize), int64((hi - lo) * runEntrySize)
}

// decodeEntries parses consecutive entries; keys index into a header of
// nk keys.
func decodeEntries(b []byte, nk int) ([]runEntry, error) {
	if len(b)%runEntrySize != 0 {
		return nil, errCorruptRun
	}
	out := make([]runEntry, len(b)/runEntrySize)
	for i := range out {
		e := &out[i]
		copy(e.TraceID[:], b[:16])
		e.Key = binary.LittleEndian.Uint32(b[16:])
		e.Off = binary.LittleEndian.Uint64(b[20:])
		e.Len = binary.LittleEndian.Uint32(b[28:])
		e.Written = int64(binary.LittleEndian.Uint64(b[32:]))
		if int(e.Key) >= nk || e.Len == 0 || e.Len > maxPageStored {
			return nil, errCorruptRun
		}
		b = b[runEntrySize:]
	}
	return out, nil
}

// maxPageStored bounds a page read: pages are ~PageSize raw.
const maxPageStored = 64 << 20

// decodeRun parses a whole run.
func decodeRun(b []byte) (*runHeader, []runEntry, error) {
	h, err := parseRunHeader(b)
	if err != nil {
		return nil, nil, err
	}
	if len(b) != h.length+h.entries*runEntrySize {
		return nil, nil, errCorruptRun
	}
	entries, err := decodeEntries(b[h.length:], len(h.keys))
	return h, entries, err
}
