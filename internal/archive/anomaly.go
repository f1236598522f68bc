package archive

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// AnomalyEntry is one anomaly event of the archive, indexed by its trace
// id as the log record carrying it is archived: search answers "traces
// flagged exfiltration this week" from these small objects instead of
// reading log pages.
type AnomalyEntry struct {
	TraceID   string `json:"trace_id"`
	SpanID    string `json:"span_id,omitempty"`
	Type      string `json:"type"`
	Extension string `json:"extension,omitempty"`
	Severity  string `json:"severity,omitempty"`
	Time      uint64 `json:"time,omitempty"` // the event's time, unix nanos
	// Role is "" for the trace the event was raised on; for another trace
	// the event names (AnomalyFinder.Linked), why it names it: "folded",
	// "related", "candidate". Such a line has no span id.
	Role string `json:"role,omitempty"`
	// Written is the write time in unix nanos (from the object's key).
	Written int64 `json:"-"`
}

// AnomalyFinder picks the anomaly events out of a batch of log records:
// records named EventName that carry a trace id and a TypeKey attribute.
// The forensic exporter configures it with the baseline connector's
// names (sandbox.anomaly, anomaly.type, sandbox.extension.id).
type AnomalyFinder struct {
	EventName    string
	TypeKey      string
	ExtensionKey string
	// Linked are attributes naming other traces of the event (hex trace
	// ids, a string or a list of strings): each is indexed under the
	// event's type too, with Role, so search reaches every trace of an
	// attack and not only the one the event was raised on.
	Linked []LinkedTraces
}

// LinkedTraces names an attribute of trace ids and the role its traces
// play in the event.
type LinkedTraces struct {
	Key  string
	Role string
}

const (
	// maxAnomalyField bounds what a record can put in the anomaly index.
	maxAnomalyField = 256
	// maxLinkedTraces bounds the other traces one event indexes: the most
	// the baseline connector can name (dedup_max_folded <= 1024 folded,
	// max_candidates <= 64 candidates, one related trace).
	maxLinkedTraces = 1024 + 64 + 1
)

// Find returns the anomaly events of b (nil for spans, or for a batch
// whose bytes do not contain the event name: most batches are never
// decoded). A batch that does not decode has no anomaly entries; its
// write reports the error.
func (f AnomalyFinder) Find(b *Batch) []AnomalyEntry {
	if b.Kind != KindLogs || f.EventName == "" || !bytes.Contains(b.Raw, []byte(f.EventName)) {
		return nil
	}
	ld, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(b.Raw)
	if err != nil {
		return nil
	}
	var out []AnomalyEntry
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, rec := range sl.LogRecords().All() {
				if rec.EventName() != f.EventName || rec.TraceID().IsEmpty() {
					continue
				}
				typ, ok := rec.Attributes().Get(f.TypeKey)
				if !ok || typ.AsString() == "" {
					continue
				}
				e := AnomalyEntry{TraceID: TraceHex(rec.TraceID()), Type: clipField(typ.AsString()),
					Severity: clipField(rec.SeverityText()), Time: uint64(rec.Timestamp())}
				if id := rec.SpanID(); !id.IsEmpty() {
					e.SpanID = hex.EncodeToString(id[:])
				}
				if ext, ok := rec.Attributes().Get(f.ExtensionKey); ok {
					e.Extension = clipField(ext.AsString())
				}
				out = append(out, e)
				out = f.appendLinked(out, e, rec.Attributes())
			}
		}
	}
	return out
}

// appendLinked appends an entry for each valid, distinct trace id the
// Linked attributes of a record name besides its own trace (up to
// maxLinkedTraces), with the event's type, extension, severity and time.
func (f AnomalyFinder) appendLinked(out []AnomalyEntry, own AnomalyEntry, attrs pcommon.Map) []AnomalyEntry {
	seen := map[string]bool{own.TraceID: true}
	add := func(v pcommon.Value, role string) {
		if len(seen) > maxLinkedTraces || v.Type() != pcommon.ValueTypeStr {
			return
		}
		id, err := ParseTraceID(v.Str())
		if err != nil || seen[TraceHex(id)] {
			return
		}
		seen[TraceHex(id)] = true
		e := own
		e.TraceID, e.SpanID, e.Role = TraceHex(id), "", role
		out = append(out, e)
	}
	for _, l := range f.Linked {
		v, ok := attrs.Get(l.Key)
		if !ok {
			continue
		}
		if v.Type() != pcommon.ValueTypeSlice {
			add(v, l.Role)
			continue
		}
		for _, item := range v.Slice().All() {
			add(item, l.Role)
		}
	}
	return out
}

func clipField(s string) string {
	if len(s) > maxAnomalyField {
		s = s[:maxAnomalyField]
	}
	return s
}

// anomalyKey names a write's anomaly index next to its catalog:
// index/<hour>/<name>.anom.json[.<comp>][.enc].
func anomalyKey(catalogKey string) string {
	return strings.Replace(catalogKey, ".idx.json", ".anom.json", 1)
}

func isAnomalyKey(k string) bool {
	if !strings.HasPrefix(k, IndexPrefix) {
		return false
	}
	k = strings.TrimSuffix(k, EncryptedExt)
	for _, c := range compressions {
		if strings.HasSuffix(k, ".anom.json"+c.Ext()) {
			return true
		}
	}
	return false
}

func anomalyCompression(k string) Compression {
	k = strings.TrimSuffix(k, EncryptedExt)
	for _, c := range compressions {
		if c != CompressionNone && strings.HasSuffix(k, c.Ext()) {
			return c
		}
	}
	return CompressionNone
}

// putAnomalies stores a write's anomaly index (after its block: it never
// names a trace whose records were not stored), sealed like the catalog
// and recorded in the digests like it.
func (w *Writer) putAnomalies(ctx context.Context, catalogKey string, entries []AnomalyEntry) (int64, error) {
	var raw []byte
	for i := range entries {
		line, err := json.Marshal(&entries[i])
		if err != nil {
			return 0, err
		}
		raw = append(append(raw, line...), '\n')
	}
	data := raw
	var err error
	// Compressed as the catalog it sits next to: its key is the
	// catalog's, suffix included.
	if c := w.Format.Compression; c != CompressionNone {
		if data, err = compress(c, nil, raw); err != nil {
			return 0, err
		}
	}
	key := anomalyKey(catalogKey)
	if w.Keys != nil {
		if data, err = sealObject(w.Keys, key, data); err != nil {
			return 0, fmt.Errorf("encrypt %s: %w", key, err)
		}
	}
	if err := w.put(ctx, key, data, "application/x-ndjson", w.now()); err != nil {
		return 0, fmt.Errorf("write anomaly index %s: %w", key, err)
	}
	return int64(len(data)), nil
}

// readAnomalies reads one anomaly index object.
func (r *Reader) readAnomalies(ctx context.Context, key string) ([]AnomalyEntry, int64, error) {
	if cached, ok := r.anomalies.lookup(key); ok {
		return cached, 0, nil
	}
	data, err := r.Bucket.ReadAll(ctx, key)
	if err != nil {
		return nil, 0, fmt.Errorf("read %s: %w", key, err)
	}
	size := int64(len(data))
	if isEncrypted(key) {
		if data, err = r.openObject(key, data); err != nil {
			return nil, size, err
		}
	}
	raw, err := decompress(anomalyCompression(key), data)
	if err != nil {
		return nil, size, fmt.Errorf("%s: %w", key, err)
	}
	t, _ := KeyTime(key)
	var out []AnomalyEntry
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 0, 4<<10), maxIndexLine)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var e AnomalyEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, size, fmt.Errorf("%s: decode anomaly line: %w", key, err)
		}
		e.Written = t.UnixNano()
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, size, err
	}
	r.anomalies.put(key, out)
	return out, size, nil
}

// Anomalies calls fn with every anomaly entry written within w, oldest
// first.
func (r *Reader) Anomalies(ctx context.Context, w Window, fn func(AnomalyEntry) error) error {
	keys, err := r.keysIn(ctx, IndexPrefix, w, isAnomalyKey)
	if err != nil {
		return err
	}
	for _, k := range keys {
		entries, _, err := r.readAnomalies(ctx, k)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	return nil
}
