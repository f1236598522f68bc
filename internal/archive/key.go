// Package archive is the forensic archive's storage format, shared by the
// forensic exporter (writes), the forensic_query extension and
// `sandwatchctl forensics` (reads): the object key layout, the encoding of
// objects and of the time index, and a Writer and a Reader over any
// gocloud.dev/blob bucket. It holds no collector plumbing.
//
// Key layout (every part of a key is rendered by this package from
// validated binary values; nothing a sender controls reaches a key):
//
//	traces/<tid[0:2]>/<tid>/<unixnano>-<rand>.<kind>.<enc>[.<comp>]  one object per trace per write
//	untraced/<YYYY-MM-DD>/<HH>/<unixnano>-<rand>.<kind>.<enc>[.<comp>]  spans/logs without a trace id
//	index/<YYYY-MM-DD>/<HH>/<unixnano>-<rand>.idx.json[.<comp>]  one per write: what it wrote
//
// All objects of one trace share the prefix traces/<tid[0:2]>/<tid>/, so a
// lookup is one List plus one Get per object, whatever the archive's size.
// The index is written before the objects it names (write-ahead), so every
// object is named by an index object of its hour: listing a time window
// reads only that window's index objects, and pruning deletes what the
// expired index objects name, without scanning traces/.
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
	TracesPrefix   = "traces/"
	UntracedPrefix = "untraced/"
	IndexPrefix    = "index/"
)

// Kind is what an object holds.
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

// TracePrefix is the prefix under which every object of a trace lives.
func TracePrefix(id pcommon.TraceID) string {
	h := TraceHex(id)
	return TracesPrefix + h[:2] + "/" + h + "/"
}

// HourPrefix renders the time partition of t (UTC): "2006-01-02/15/".
func HourPrefix(t time.Time) string { return t.UTC().Format("2006-01-02/15") + "/" }

// DayPrefix renders "2006-01-02/" for t (UTC).
func DayPrefix(t time.Time) string { return t.UTC().Format("2006-01-02") + "/" }

// objectName is "<unixnano>-<16 random hex>": sortable by write time and
// unique without coordination between collectors sharing a bucket.
func objectName(t time.Time) string {
	var r [8]byte
	_, _ = rand.Read(r[:])
	return fmt.Sprintf("%019d-%s", t.UnixNano(), hex.EncodeToString(r[:]))
}

// TraceObjectKey is the key of one object of trace id written at t.
func TraceObjectKey(id pcommon.TraceID, t time.Time, kind Kind, f Format) string {
	return TracePrefix(id) + objectName(t) + "." + string(kind) + f.Ext()
}

// UntracedObjectKey is the key of an object of spans or logs without a
// trace id, written at t.
func UntracedObjectKey(t time.Time, kind Kind, f Format) string {
	return UntracedPrefix + HourPrefix(t) + objectName(t) + "." + string(kind) + f.Ext()
}

// IndexKey is the key of the index object of a write at t.
func IndexKey(t time.Time, f Format) string {
	return IndexPrefix + HourPrefix(t) + objectName(t) + ".idx.json" + f.Compression.Ext()
}

// KeyTime returns the write time encoded in an object or index key's name.
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

// ParseObjectKey reports an object key's kind and format; ok is false for
// anything else found under a prefix (temporary files, index objects,
// foreign objects).
func ParseObjectKey(key string) (Kind, Format, bool) {
	name := key[strings.LastIndexByte(key, '/')+1:]
	parts := strings.Split(name, ".")
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
