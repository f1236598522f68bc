package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// On disk a segment is
//
//	"SWWAL001" | record*
//	record: length u32 | crc32c(payload) u32 | payload
//
// little-endian. A record is never empty, so a zero-filled tail (what a
// file system may leave after a crash) is detected as damage like any
// other torn write.
const (
	segMagic   = "SWWAL001"
	headerSize = 8
	segSuffix  = ".wal"
	// maxRecord bounds what a damaged length field can make us allocate.
	maxRecord = 1 << 30
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func segName(dir string, id uint64) string {
	return filepath.Join(dir, fmt.Sprintf("%020d%s", id, segSuffix))
}

// listSegments returns the ids of dir's segments in order.
func listSegments(dir string) ([]uint64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var ids []uint64
	for _, e := range ents {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, segSuffix) {
			continue
		}
		id, err := strconv.ParseUint(strings.TrimSuffix(name, segSuffix), 10, 64)
		if err != nil {
			continue // not ours
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, nil
}

// frame appends the record of the concatenated parts to dst.
func frame(dst []byte, parts ...[]byte) []byte {
	var n int
	var sum uint32
	for _, p := range parts {
		n += len(p)
		sum = crc32.Update(sum, castagnoli, p)
	}
	dst = binary.LittleEndian.AppendUint32(dst, uint32(n))
	dst = binary.LittleEndian.AppendUint32(dst, sum)
	for _, p := range parts {
		dst = append(dst, p...)
	}
	return dst
}

var errDamaged = errors.New("damaged record")

// readRecord reads the record at off of f (whose valid bytes end at
// limit) into dst. It returns the payload (dst's storage reused) and the
// record's end, or errDamaged when the header or checksum does not hold,
// or io.EOF when off is limit.
func readRecord(f io.ReaderAt, off, limit int64, dst []byte) ([]byte, int64, error) {
	if off >= limit {
		return dst[:0], off, io.EOF
	}
	if limit-off < headerSize {
		return dst[:0], off, errDamaged
	}
	var h [headerSize]byte
	if _, err := f.ReadAt(h[:], off); err != nil {
		return dst[:0], off, err
	}
	n := int64(binary.LittleEndian.Uint32(h[:4]))
	sum := binary.LittleEndian.Uint32(h[4:])
	if n == 0 || n > maxRecord || off+headerSize+n > limit {
		return dst[:0], off, errDamaged
	}
	dst = slices.Grow(dst[:0], int(n))[:n]
	if _, err := f.ReadAt(dst, off+headerSize); err != nil {
		return dst[:0], off, err
	}
	if crc32.Checksum(dst, castagnoli) != sum {
		return dst[:0], off, errDamaged
	}
	return dst, off + headerSize + n, nil
}

// scanResult is what recovery learned of one segment.
type scanResult struct {
	good    int64 // bytes up to the end of the last good record
	records int
	cut     int64 // bytes after it (a torn or damaged tail)
}

// scanSegment validates every record of path and truncates the file at
// the end of the last good one. A file too short for its magic (created
// just before a crash) counts as empty.
func scanSegment(path string) (scanResult, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return scanResult{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return scanResult{}, err
	}
	size := fi.Size()
	var r scanResult
	magic := make([]byte, len(segMagic))
	if _, err := f.ReadAt(magic, 0); err != nil || string(magic) != segMagic {
		// No valid magic: nothing in it can be trusted.
		r.cut = size
		return r, f.Truncate(0)
	}
	off := int64(len(segMagic))
	var buf []byte
	for {
		var end int64
		buf, end, err = readRecord(f, off, size, buf)
		if err != nil {
			break
		}
		off = end
		r.records++
	}
	if !errors.Is(err, io.EOF) && !errors.Is(err, errDamaged) {
		return r, err
	}
	r.good, r.cut = off, size-off
	if r.cut > 0 {
		if err := f.Truncate(off); err != nil {
			return r, err
		}
		return r, f.Sync()
	}
	return r, nil
}
