// Package archive is the forensic archive's storage format, shared by the
// forensic exporter (writes), the forensic_query extension and
// `sandwatchctl forensics` (reads): the object key layout, the encoding of
// blocks, catalogs and lookup runs, and a Writer and a Reader over any
// gocloud.dev/blob bucket. It holds no collector plumbing.
//
// Key layout (every part of a key is rendered by this package from
// validated binary values; nothing a sender controls reaches a key):
//
//	blocks/<YYYY-MM-DD>/<HH>/<name>.<kind>.<enc>[.<comp>][.enc]  one per write: pages of whole spans/records
//	index/<YYYY-MM-DD>/<HH>/<name>.idx.json[.<comp>][.enc]       one per write: the catalog of that block
//	lookup/L<level>/<newest>-<oldest>-<rand>.run                 trace id -> page, sorted; compacted
//	digests/<writer>/<seq>-<start>-<end>.json                    signed SHA-256 of each block and catalog (package digest)
//
// A trailing .enc marks an object sealed with client-side envelope
// encryption (package sealed): a header, then pages sealed one by one.
// Lookup runs stay plain: they hold trace ids, block keys and offsets,
// no span content.
//
// where <name> is "<unixnano>-<16 random hex>", shared by a block and its
// catalog. A write (one queue batch, 4-8 MiB by default) is one block, one
// catalog and one lookup run: three PUTs for ~10-20k spans, instead of one
// PUT per trace. A block is a sequence of independently compressed pages
// (OTLP TracesData or LogsData of ~128 KiB each); a trace's spans of one
// write land in one block, usually in one page.
//
// A lookup by trace id lists lookup/ (one request: the compactor keeps at
// most fanout-1 runs per level), reads from each run the one page of
// entries the id falls in (the run's header is cached by a long-lived
// reader), then range-reads the pages those entries name. Time-based
// reading (list, stats, prune) uses the hour partitions of index/ and
// blocks/ and never scans lookup/.
package archive

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// Key prefixes.
const (
	BlocksPrefix = "blocks/"
	IndexPrefix  = "index/"
	LookupPrefix = "lookup/"
)

// Kind is what a block holds.
type Kind string

const (
	KindSpans Kind = "spans"
	KindLogs  Kind = "logs"
)

// ErrInvalidTraceID is returned for a trace id that is not 32 hex digits
// or is all zeros.
var ErrInvalidTraceID = errors.New("trace id must be 32 hexadecimal digits and not all zeros")

// ParseTraceID validates a trace id in hex (upper or lower case).
func ParseTraceID(s string) (pcommon.TraceID, error) {
	var id pcommon.TraceID
	if len(s) != 32 {
		return id, ErrInvalidTraceID
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, ErrInvalidTraceID
	}
	if id.IsEmpty() {
		return id, ErrInvalidTraceID
	}
	return id, nil
}

// TraceHex renders a trace id as 32 lower-case hex digits.
func TraceHex(id pcommon.TraceID) string { return hex.EncodeToString(id[:]) }

// HourPrefix renders the time partition of t (UTC): "2006-01-02/15/".
func HourPrefix(t time.Time) string { return t.UTC().Format("2006-01-02/15") + "/" }

// objectName is "<unixnano>-<16 random hex>": sortable by write time and
// unique without coordination between collectors sharing a bucket.
func objectName(t time.Time) string {
	return fmt.Sprintf("%019d-%s", t.UnixNano(), randomHex())
}

// randomHex is 16 random hex digits: names unique without coordination.
func randomHex() string {
	var r [8]byte
	_, _ = rand.Read(r[:])
	return hex.EncodeToString(r[:])
}

// writeKeys are the keys of one write's block and catalog.
type writeKeys struct{ Block, Catalog string }

// newWriteKeys names a write's objects; sealed ones end in EncryptedExt.
// A catalog (and the anomaly index beside it) is compressed as its block
// is. S2 catalogs for zstd blocks were measured (a fifth of zstd's CPU, 4
// bytes a span more, BenchmarkCatalogCodec) and not kept: with them the
// unique-trace-id flood test's good sender saw up to 10% of its requests
// refused by the memory_limiter, against none before (issue 26). Search
// derives a block's catalog key from the block's key (catalogKeyOf).
func newWriteKeys(t time.Time, kind Kind, f Format, encrypted bool) writeKeys {
	base := HourPrefix(t) + objectName(t)
	enc := ""
	if encrypted {
		enc = EncryptedExt
	}
	return writeKeys{
		Block:   BlocksPrefix + base + "." + string(kind) + f.Ext() + enc,
		Catalog: IndexPrefix + base + ".idx.json" + f.Compression.Ext() + enc,
	}
}

// KeyTime returns the write time encoded in a block or catalog key's name
// (the first number of its last segment).
func KeyTime(key string) (time.Time, bool) {
	name := key[strings.LastIndexByte(key, '/')+1:]
	dash := strings.IndexByte(name, '-')
	if dash <= 0 {
		return time.Time{}, false
	}
	ns, err := strconv.ParseInt(name[:dash], 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, ns), true
}

// ParseBlockKey reports a block key's kind and format; ok is false for
// anything that is not a block key of this layout (temporary files,
// foreign objects, a hostile key in a corrupt run).
func ParseBlockKey(key string) (Kind, Format, bool) {
	rest, ok := strings.CutPrefix(key, BlocksPrefix)
	if !ok || strings.Contains(key, "..") {
		return "", Format{}, false
	}
	// <YYYY-MM-DD>/<HH>/<name>
	segs := strings.Split(rest, "/")
	if len(segs) != 3 || len(segs[0]) != 10 || len(segs[1]) != 2 {
		return "", Format{}, false
	}
	if _, err := time.Parse("2006-01-02/15", segs[0]+"/"+segs[1]); err != nil {
		return "", Format{}, false
	}
	parts := strings.Split(strings.TrimSuffix(segs[2], EncryptedExt), ".")
	if len(parts) < 3 || len(parts) > 4 {
		return "", Format{}, false
	}
	kind := Kind(parts[1])
	if kind != KindSpans && kind != KindLogs {
		return "", Format{}, false
	}
	f, err := ParseFormatExt(strings.Join(parts[2:], "."))
	if err != nil {
		return "", Format{}, false
	}
	if _, ok := KeyTime(key); !ok {
		return "", Format{}, false
	}
	return kind, f, true
}

// runKey names a lookup run of a level holding entries written between
// oldest and newest. Newest first in the name: prune drops runs whose
// newest entry expired without reading them.
func runKey(level int, oldest, newest int64) string {
	return fmt.Sprintf("%sL%d/%019d-%019d-%s.run", LookupPrefix, level, newest, oldest, randomHex())
}

// runInfo is what a run's key says.
type runInfo struct {
	Key            string
	Level          int
	Newest, Oldest int64
	Size           int64
}

func parseRunKey(key string) (runInfo, bool) {
	rest, ok := strings.CutPrefix(key, LookupPrefix+"L")
	if !ok {
		return runInfo{}, false
	}
	lvl, name, ok := strings.Cut(rest, "/")
	level, err := strconv.Atoi(lvl)
	if !ok || err != nil || level < 0 || level > 64 || !strings.HasSuffix(name, ".run") {
		return runInfo{}, false
	}
	parts := strings.Split(strings.TrimSuffix(name, ".run"), "-")
	if len(parts) != 3 {
		return runInfo{}, false
	}
	newest, err1 := strconv.ParseInt(parts[0], 10, 64)
	oldest, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil {
		return runInfo{}, false
	}
	return runInfo{Key: key, Level: level, Newest: newest, Oldest: oldest}, true
}
