package archive

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// IndexEntry describes what one write stored of one trace: the catalog of
// that write holds one JSON line per trace (and one for the items without
// a trace id).
type IndexEntry struct {
	TraceID   string      `json:"trace_id,omitempty"` // hex; empty for items without a trace id
	Key       string      `json:"key"`                // the block
	Kind      Kind        `json:"kind"`
	Pages     [][2]uint64 `json:"pages"` // [offset, length] of each page holding the trace
	Count     int         `json:"count"` // spans or log records
	Bytes     int         `json:"bytes"` // the trace's share of the block's stored size
	Start     uint64      `json:"start,omitempty"`
	End       uint64      `json:"end,omitempty"`
	Extension string      `json:"extension,omitempty"`
	RootName  string      `json:"root,omitempty"`
	// Written is the write time in unix nanos (from the index key).
	Written int64 `json:"-"`
}

// maxIndexLine bounds one line when reading an index object back.
const maxIndexLine = 1 << 20

// encodeIndex renders entries one JSON line each, compressed as the
// blocks of f are (see newWriteKeys).
func encodeIndex(f Format, entries []IndexEntry) ([]byte, error) {
	buf := make([]byte, 0, 320*len(entries)) // a line is 250 to 300 bytes
	for i := range entries {
		buf = appendIndexLine(buf, &entries[i])
	}
	if f.Compression == CompressionNone {
		return buf, nil
	}
	return compress(f.Compression, nil, buf)
}

func decodeIndex(c Compression, data []byte) ([]IndexEntry, error) {
	raw, err := decompress(c, data)
	if err != nil {
		return nil, err
	}
	var out []IndexEntry
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 0, 64<<10), maxIndexLine)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var e IndexEntry
		var prev *IndexEntry
		if len(out) > 0 {
			prev = &out[len(out)-1]
		}
		if !decodeIndexLine(sc.Bytes(), &e, prev) {
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				return nil, fmt.Errorf("decode index line: %w", err)
			}
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read index: %w", err)
	}
	return out, nil
}

// indexCompression reads the compression from a catalog key's suffix
// (old and new: a zstd block's catalog was .zst and is .s2 now).
func indexCompression(key string) (Compression, bool) {
	key = strings.TrimSuffix(key, EncryptedExt)
	for _, c := range compressions {
		if strings.HasSuffix(key, ".idx.json"+c.Ext()) {
			return c, true
		}
	}
	return "", false
}
