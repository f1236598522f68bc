package archive

import (
	"bytes"
	"fmt"
	"slices"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/archive/otlppage"
)

// Batch is spans or log records already marshaled as OTLP protobuf, with
// what the catalog needs of each item. It is what a write takes, so that
// data marshaled once (when the exporter accepts it) goes through the
// persistent queue and into a block without ever being decoded into pdata
// again: batches merge by concatenation (two TracesData messages
// concatenated are one TracesData holding both) and split on item
// boundaries of the wire bytes.
type Batch struct {
	Kind  Kind
	Raw   []byte     // a TracesData (KindSpans) or LogsData (KindLogs)
	Items []ItemMeta // one per span or log record, in wire (= pdata) order
	Names []string   // extension ids and root span names that Items refer to
}

// ItemMeta is what the catalog records of one span or log record.
type ItemMeta struct {
	TraceID    pcommon.TraceID // zero for log records without a trace
	Start, End uint64          // unix nanos; a log record's timestamp twice
	Extension  uint32          // 1 + index into Names; 0 when this item does not name it
	Root       uint32          // 1 + index into Names of a root span's name; 0 for other items
}

// Len is the number of spans or log records.
func (b *Batch) Len() int { return len(b.Items) }

// names interns the strings of one batch being built.
type names struct {
	b     *Batch
	index map[string]uint32
}

func (n *names) ref(s string) uint32 {
	if s == "" {
		return 0
	}
	if i, ok := n.index[s]; ok {
		return i
	}
	n.b.Names = append(n.b.Names, clip(s)) // a copy: s aliases pdata memory
	i := uint32(len(n.b.Names))
	n.index[s] = i // the index lives only while the batch is built
	return i
}

// named holds the traces of a batch whose extension is known: the
// resolver is asked until a trace has a name, typically once per trace,
// not per item.
type named map[pcommon.TraceID]struct{}

// set interns ext as id's extension; 0 (id stays unnamed) when ext is empty.
func (m named) set(id pcommon.TraceID, nm *names, ext string) uint32 {
	r := nm.ref(ext)
	if r != 0 {
		m[id] = struct{}{}
	}
	return r
}

// EncodeTraces marshals td into a batch. td is not modified.
func EncodeTraces(td ptrace.Traces, ext Extensions) (*Batch, error) {
	raw, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	if err != nil {
		return nil, fmt.Errorf("encode traces: %w", err)
	}
	b := &Batch{Kind: KindSpans, Raw: raw, Items: make([]ItemMeta, 0, td.SpanCount())}
	nm := names{b: b, index: map[string]uint32{}}
	done := named{}
	for _, rs := range td.ResourceSpans().All() {
		for _, ss := range rs.ScopeSpans().All() {
			for _, span := range ss.Spans().All() {
				m := ItemMeta{TraceID: span.TraceID(), Start: uint64(span.StartTimestamp()), End: uint64(span.EndTimestamp())}
				if span.ParentSpanID().IsEmpty() {
					m.Root = nm.ref(span.Name())
				}
				if _, ok := done[m.TraceID]; !ok {
					switch {
					case ext.ItemAt != nil:
						m.Extension = done.set(m.TraceID, &nm, ext.ItemAt(len(b.Items)))
					case ext.OfSpan != nil:
						m.Extension = done.set(m.TraceID, &nm, ext.OfSpan(rs.Resource(), span))
					}
				}
				b.Items = append(b.Items, m)
			}
		}
	}
	return b, nil
}

// EncodeLogs marshals ld into a batch. ld is not modified.
func EncodeLogs(ld plog.Logs, ext Extensions) (*Batch, error) {
	raw, err := (&plog.ProtoMarshaler{}).MarshalLogs(ld)
	if err != nil {
		return nil, fmt.Errorf("encode logs: %w", err)
	}
	b := &Batch{Kind: KindLogs, Raw: raw, Items: make([]ItemMeta, 0, ld.LogRecordCount())}
	nm := names{b: b, index: map[string]uint32{}}
	done := named{}
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, rec := range sl.LogRecords().All() {
				ts := uint64(rec.Timestamp())
				if ts == 0 {
					ts = uint64(rec.ObservedTimestamp())
				}
				m := ItemMeta{TraceID: rec.TraceID(), Start: ts, End: ts}
				if _, ok := done[m.TraceID]; !ok {
					switch {
					case ext.ItemAt != nil:
						m.Extension = done.set(m.TraceID, &nm, ext.ItemAt(len(b.Items)))
					case ext.OfLog != nil:
						m.Extension = done.set(m.TraceID, &nm, ext.OfLog(rl.Resource(), rec))
					}
				}
				b.Items = append(b.Items, m)
			}
		}
	}
	return b, nil
}

// Append moves o's items after b's. o must not be used afterwards.
func (b *Batch) Append(o *Batch) error {
	if o.Kind != b.Kind {
		return fmt.Errorf("cannot merge a %s batch into a %s batch", o.Kind, b.Kind)
	}
	b.Raw = append(b.Raw, o.Raw...)
	shift := uint32(len(b.Names))
	b.Names = append(b.Names, o.Names...)
	for _, m := range o.Items {
		if m.Extension != 0 {
			m.Extension += shift
		}
		if m.Root != 0 {
			m.Root += shift
		}
		b.Items = append(b.Items, m)
	}
	return nil
}

// Split cuts b into batches of at most maxBytes of Raw each, on item
// boundaries (an item larger than maxBytes travels alone: nothing is
// dropped). The parts share b's Names, read-only.
func (b *Batch) Split(maxBytes int) ([]*Batch, error) {
	if maxBytes <= 0 || len(b.Raw) <= maxBytes {
		return []*Batch{b}, nil
	}
	var raws [][]byte
	itemPart, err := otlppage.Paginate(b.Raw, maxBytes, func(page []byte) error {
		raws = append(raws, bytes.Clone(page))
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(itemPart) != len(b.Items) {
		return nil, fmt.Errorf("%w: split found %d, the batch holds %d", ErrItemMismatch, len(itemPart), len(b.Items))
	}
	shared := slices.Clip(b.Names) // an Append to one part must not write into another's
	parts := make([]*Batch, len(raws))
	for i, raw := range raws {
		parts[i] = &Batch{Kind: b.Kind, Raw: raw, Names: shared}
	}
	for n, m := range b.Items {
		p := parts[itemPart[n]]
		p.Items = append(p.Items, m)
	}
	return parts, nil
}
