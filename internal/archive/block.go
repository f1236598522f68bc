package archive

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/archive/otlppage"
)

// Extensions name the sandboxed extension a span or log record belongs to
// ("" when unknown); the writer records it in the catalog so `list` can
// filter by extension. They are called until a trace has a name, typically
// once per trace, not per span. Either may be nil.
type Extensions struct {
	OfSpan func(resource pcommon.Resource, span ptrace.Span) string
	OfLog  func(resource pcommon.Resource, rec plog.LogRecord) string
	// ItemAt, when set, names the n-th span or log record of the batch
	// being encoded (wire order): the caller already has the batch's
	// classification (sandboxevent's batch scope), so OfSpan and OfLog are
	// not called.
	ItemAt func(n int) string
}

// ErrItemMismatch: a batch's bytes hold another number of items than its
// metadata (a damaged queue entry): retrying cannot help.
var ErrItemMismatch = errors.New("batch items do not match its bytes")

// maxExtensionLen bounds what a sender can put in the catalog per trace.
const maxExtensionLen = 256

func clip(s string) string {
	if len(s) > maxExtensionLen {
		s = s[:maxExtensionLen]
	}
	return strings.Clone(s) // the classifier's strings alias pdata memory
}

// pageRef is where a page is in its block.
type pageRef struct {
	Off uint64
	Len uint32
}

// traceAcc is what one write holds of one trace (or, with an empty ID, of
// the items without a trace id).
type traceAcc struct {
	ID        pcommon.TraceID
	Pages     []int32 // ascending
	Count     int
	Start     uint64 // earliest start (unix nanos), 0 if unknown
	End       uint64
	Extension string
	RootName  string // the name of a span without a parent, if present
}

func (a *traceAcc) add(page int32, start, end uint64) {
	if n := len(a.Pages); n == 0 || a.Pages[n-1] != page {
		a.Pages = append(a.Pages, page)
	}
	a.Count++
	if start != 0 && (a.Start == 0 || start < a.Start) {
		a.Start = start
	}
	a.End = max(a.End, end)
}

// block is one write, encoded: its bytes (concatenated compressed pages)
// and what each trace has where.
type block struct {
	Data   []byte
	Pages  []pageRef
	Traces []traceAcc // in order of first appearance
	Items  int
	// Anomalies are the anomaly events among the block's log records.
	Anomalies []AnomalyEntry
}

type blockBuilder struct {
	block
	byID map[pcommon.TraceID]int32
}

func (b *blockBuilder) trace(id pcommon.TraceID) *traceAcc {
	i, ok := b.byID[id]
	if !ok {
		i = int32(len(b.Traces))
		b.byID[id] = i
		b.Traces = append(b.Traces, traceAcc{ID: id})
	}
	return &b.Traces[i]
}

// addPage renders a raw page in f (toJSON re-encodes a protobuf page as
// OTLP JSON) and appends it to the block.
func (b *blockBuilder) addPage(f Format, raw []byte, toJSON func([]byte) ([]byte, error)) error {
	if f.Encoding == EncodingJSON {
		var err error
		if raw, err = toJSON(raw); err != nil {
			return err
		}
	}
	off := len(b.Data)
	var err error
	if b.Data, err = compress(f.Compression, b.Data, raw); err != nil {
		return err
	}
	b.Pages = append(b.Pages, pageRef{Off: uint64(off), Len: uint32(len(b.Data) - off)})
	return nil
}

// PageSize is the target raw (uncompressed) size of a page: large enough
// for zstd to compress well, small enough that a lookup decodes little
// beyond the trace it wants.
const PageSize = 128 << 10

// buildPages cuts a marshaled batch of items into compressed pages (see
// otlppage.Paginate) and returns the builder, ready for per-trace bookkeeping, and
// each item's page.
//
// The item pages live in pg, which the caller returns to pagers once
// done with them.
func buildPages(f Format, raw []byte, items int, toJSON func([]byte) ([]byte, error), pg *otlppage.Pager) (*blockBuilder, []int32, error) {
	b := &blockBuilder{block: block{Data: make([]byte, 0, len(raw)/4+1024)}, byID: make(map[pcommon.TraceID]int32)}
	itemPage, err := pg.Paginate(raw, PageSize, func(page []byte) error { return b.addPage(f, page, toJSON) })
	if err != nil {
		return nil, nil, err
	}
	if len(itemPage) != items {
		return nil, nil, fmt.Errorf("%w: pagination found %d, the batch holds %d", ErrItemMismatch, len(itemPage), items)
	}
	return b, itemPage, nil
}

// pagers keeps the pagers' working memory (a page buffer and the
// pending page's slices) between writes, which may run concurrently.
var pagers = sync.Pool{New: func() any { return new(otlppage.Pager) }}

// tracesPageJSON re-encodes a protobuf page of spans as OTLP JSON.
func tracesPageJSON(p []byte) ([]byte, error) {
	t, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(p)
	if err != nil {
		return nil, err
	}
	return (&ptrace.JSONMarshaler{}).MarshalTraces(t)
}

// logsPageJSON re-encodes a protobuf page of log records as OTLP JSON.
func logsPageJSON(p []byte) ([]byte, error) {
	l, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(p)
	if err != nil {
		return nil, err
	}
	return (&plog.JSONMarshaler{}).MarshalLogs(l)
}

// encodeBlock paginates a batch (see otlppage.Paginate) and records, per
// trace, the pages holding its items.
func encodeBlock(f Format, in *Batch) (*block, error) {
	toJSON := tracesPageJSON
	if in.Kind == KindLogs {
		toJSON = logsPageJSON
	}
	pg := pagers.Get().(*otlppage.Pager)
	defer pagers.Put(pg)
	b, itemPage, err := buildPages(f, in.Raw, len(in.Items), toJSON, pg)
	if err != nil {
		return nil, err
	}
	for n, m := range in.Items {
		a := b.trace(m.TraceID)
		a.add(itemPage[n], m.Start, m.End)
		if a.RootName == "" && m.Root != 0 {
			a.RootName = in.Names[m.Root-1]
		}
		if a.Extension == "" && m.Extension != 0 {
			a.Extension = in.Names[m.Extension-1]
		}
	}
	b.Items = len(in.Items)
	return &b.block, nil
}
