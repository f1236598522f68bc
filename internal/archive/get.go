package archive

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"sync"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"gocloud.dev/blob"

	"github.com/sandwatch/sandwatch/internal/archive/lookuprun"
)

// location is a page holding spans or records of a trace.
type location struct {
	Key     string
	Off     uint64
	Len     uint32
	Written int64
}

// runReadAhead is the first read of a run: the whole of a small run, or
// the footer of most large ones.
const runReadAhead = 64 << 10

// Get returns every span and log record archived under id: one List of
// lookup/, one read of entries per run (plus its footer, unless cached),
// one range read per page. Spans written twice (a retried batch) are
// returned once.
func (r *Reader) Get(ctx context.Context, id pcommon.TraceID) (*Trace, error) {
	if id.IsEmpty() {
		return nil, ErrInvalidTraceID
	}
	locs, err := r.locate(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(locs) == 0 {
		return nil, ErrNotFound
	}
	out := &Trace{Traces: ptrace.NewTraces(), Logs: plog.NewLogs()}
	if len(locs) > MaxObjectsPerTrace {
		locs, out.Truncated = locs[:MaxObjectsPerTrace], true
	}
	datas := make([][]byte, len(locs))
	errs := make([]error, len(locs))
	parallel(len(locs), func(i int) {
		datas[i], errs[i] = r.readPage(ctx, locs[i].Key, locs[i].Off, locs[i].Len)
	})
	seen := make(map[pcommon.SpanID]struct{})
	blocks := map[string]struct{}{}
	for i, l := range locs {
		if isNotFound(errs[i]) {
			continue // pruned since the run was written
		}
		if errs[i] != nil {
			return nil, fmt.Errorf("read %s: %w", l.Key, errs[i])
		}
		kind, f, _ := ParseBlockKey(l.Key)
		if kind == KindLogs {
			ld, err := DecodeLogs(f, datas[i])
			if err != nil {
				return nil, fmt.Errorf("decode %s@%d: %w", l.Key, l.Off, err)
			}
			keepLogsOf(ld, id)
			ld.ResourceLogs().MoveAndAppendTo(out.Logs.ResourceLogs())
		} else {
			td, err := DecodeTraces(f, datas[i])
			if err != nil {
				return nil, fmt.Errorf("decode %s@%d: %w", l.Key, l.Off, err)
			}
			keepSpansOf(td, id, seen)
			td.ResourceSpans().MoveAndAppendTo(out.Traces.ResourceSpans())
		}
		out.Pages++
		blocks[l.Key] = struct{}{}
	}
	out.Objects = len(blocks)
	out.Spans = out.Traces.SpanCount()
	if out.Spans == 0 && out.Logs.LogRecordCount() == 0 {
		return nil, ErrNotFound
	}
	return out, nil
}

// locate finds the pages of id in every lookup run, oldest write first.
// A run compacted away between the List and its read makes it start over
// once: the compactor stores the merged run before deleting its inputs.
func (r *Reader) locate(ctx context.Context, id pcommon.TraceID) ([]location, error) {
	for attempt := 0; ; attempt++ {
		runs, err := r.runs(ctx)
		if err != nil {
			return nil, err
		}
		found := make([][]location, len(runs))
		errs := make([]error, len(runs))
		parallel(len(runs), func(i int) { found[i], errs[i] = r.searchRun(ctx, runs[i], id) })
		var locs []location
		retry := false
		for i, err := range errs {
			if isNotFound(err) {
				retry = true
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("lookup run %s: %w", runs[i].Key, err)
			}
			locs = append(locs, found[i]...)
		}
		if retry && attempt == 0 {
			continue
		}
		slices.SortFunc(locs, func(a, b location) int {
			return cmp.Or(cmp.Compare(a.Written, b.Written), cmp.Compare(a.Key, b.Key), cmp.Compare(a.Off, b.Off))
		})
		// Compaction racing another collector's may leave an entry twice.
		return slices.CompactFunc(locs, func(a, b location) bool { return a.Key == b.Key && a.Off == b.Off }), nil
	}
}

// runs lists the lookup runs.
func (r *Reader) runs(ctx context.Context) ([]runInfo, error) {
	var runs []runInfo
	err := r.list(ctx, LookupPrefix, func(obj *blob.ListObject) error {
		if info, ok := parseRunKey(obj.Key); ok {
			info.Size = obj.Size
			runs = append(runs, info)
		}
		return nil
	})
	return runs, err
}

// searchRun returns the pages of id that run names.
func (r *Reader) searchRun(ctx context.Context, run runInfo, id pcommon.TraceID) ([]location, error) {
	h, whole, err := r.runFooter(ctx, run)
	if err != nil {
		return nil, err
	}
	lo, hi := h.Span(id)
	if lo >= hi {
		return nil, nil
	}
	off, n := h.ByteRange(lo, hi)
	var raw []byte
	if int64(len(whole)) >= off+n {
		raw = whole[off : off+n] // a small run was read whole
	} else if raw, err = r.readRange(ctx, run.Key, off, n); err != nil {
		return nil, err
	}
	entries, err := lookuprun.DecodeEntries(raw, len(h.Keys))
	if err != nil {
		return nil, err
	}
	var out []location
	for _, e := range entries {
		if e.TraceID == id {
			out = append(out, location{Key: h.Keys[e.Key], Off: e.Off, Len: e.Len, Written: e.Written})
		}
	}
	return out, nil
}

// runFooter returns run's parsed footer, from the cache or read from its
// tail (one read; two for a footer over runReadAhead). A run no larger
// than runReadAhead is read whole and returned too.
func (r *Reader) runFooter(ctx context.Context, run runInfo) (*lookuprun.Header, []byte, error) {
	if h := r.headers.get(run.Key); h != nil {
		return h, nil, nil
	}
	if run.Size < int64(lookuprun.TrailerSize) {
		return nil, nil, lookuprun.ErrCorrupt
	}
	from := max(run.Size-runReadAhead, 0)
	tail, err := r.readRange(ctx, run.Key, from, run.Size-from)
	if err != nil {
		return nil, nil, err
	}
	if int64(len(tail)) != run.Size-from {
		return nil, nil, lookuprun.ErrCorrupt // changed since listed: runs never do
	}
	flen, err := lookuprun.FooterLength(tail, run.Size)
	if err != nil {
		return nil, nil, err
	}
	footer := tail
	if flen > int64(len(tail)) {
		if footer, err = r.readRange(ctx, run.Key, run.Size-flen, flen); err != nil {
			return nil, nil, err
		}
	} else {
		footer = tail[int64(len(tail))-flen:]
	}
	h, err := lookuprun.ParseFooter(footer, run.Size, isBlockKey)
	if err != nil {
		return nil, nil, err
	}
	r.headers.put(run.Key, h)
	if from == 0 {
		return h, tail, nil
	}
	return h, nil, nil
}

// readRange reads up to n bytes of key from off.
func (r *Reader) readRange(ctx context.Context, key string, off, n int64) ([]byte, error) {
	rd, err := r.Bucket.NewRangeReader(ctx, key, off, n, nil)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	return io.ReadAll(rd)
}

// parallel runs fn(0..n-1), eight at a time: object stores answer many
// small reads in parallel far faster than in sequence.
func parallel(n int, fn func(i int)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn(i)
		}()
	}
	wg.Wait()
}

// keepSpansOf keeps the spans of id not seen before (pages are shared
// with other traces; a retried batch stored some spans twice).
func keepSpansOf(td ptrace.Traces, id pcommon.TraceID, seen map[pcommon.SpanID]struct{}) {
	td.ResourceSpans().RemoveIf(func(rs ptrace.ResourceSpans) bool {
		rs.ScopeSpans().RemoveIf(func(ss ptrace.ScopeSpans) bool {
			ss.Spans().RemoveIf(func(s ptrace.Span) bool {
				if s.TraceID() != id {
					return true
				}
				if _, ok := seen[s.SpanID()]; ok {
					return true
				}
				seen[s.SpanID()] = struct{}{}
				return false
			})
			return ss.Spans().Len() == 0
		})
		return rs.ScopeSpans().Len() == 0
	})
}

// keepLogsOf keeps the records of id.
func keepLogsOf(ld plog.Logs, id pcommon.TraceID) {
	ld.ResourceLogs().RemoveIf(func(rl plog.ResourceLogs) bool {
		rl.ScopeLogs().RemoveIf(func(sl plog.ScopeLogs) bool {
			sl.LogRecords().RemoveIf(func(rec plog.LogRecord) bool { return rec.TraceID() != id })
			return sl.LogRecords().Len() == 0
		})
		return rl.ScopeLogs().Len() == 0
	})
}
