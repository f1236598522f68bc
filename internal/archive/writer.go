package archive

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"gocloud.dev/blob"
)

// WriteStats is what one write stored.
type WriteStats struct {
	Objects int // objects written (index objects not counted)
	Bytes   int64
	Items   int // spans or log records
}

// Writer writes batches to a bucket: one object per trace per batch, after
// the batch's index object.
type Writer struct {
	Bucket      *blob.Bucket
	Format      Format
	Concurrency int // parallel object writes per batch; default 16
	Extensions  Extensions
	Now         func() time.Time // for tests; default time.Now
}

func (w *Writer) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

// WriteTraces stores td. It returns only when every object is stored (nil)
// or when one failed (error): a caller that acknowledges on nil loses
// nothing. A retried batch writes new objects; readers drop the duplicate
// spans by span id.
func (w *Writer) WriteTraces(ctx context.Context, td ptrace.Traces) (WriteStats, error) {
	groups := SplitTraces(td, w.Extensions)
	return w.write(ctx, groups, KindSpans, func(g *Group) ([]byte, error) { return EncodeTraces(w.Format, g.Traces) })
}

// WriteLogs stores ld: records carrying a trace id under that trace's
// prefix, the others under untraced/.
func (w *Writer) WriteLogs(ctx context.Context, ld plog.Logs) (WriteStats, error) {
	groups := SplitLogs(ld, w.Extensions)
	return w.write(ctx, groups, KindLogs, func(g *Group) ([]byte, error) { return EncodeLogs(w.Format, g.Logs) })
}

func (w *Writer) write(ctx context.Context, groups []*Group, kind Kind, encode func(*Group) ([]byte, error)) (WriteStats, error) {
	var st WriteStats
	if len(groups) == 0 {
		return st, nil
	}
	now := w.now()
	// Encode first: the index records stored sizes, and an encoding error
	// should fail the batch before anything is written.
	payloads := make([][]byte, len(groups))
	entries := make([]IndexEntry, len(groups))
	for i, g := range groups {
		data, err := encode(g)
		if err != nil {
			return st, err
		}
		payloads[i] = data
		e := IndexEntry{Kind: kind, Count: g.Count, Bytes: len(data), Start: g.Start, End: g.End,
			Extension: g.Extension, RootName: g.RootName}
		if g.ID.IsEmpty() {
			e.Key = UntracedObjectKey(now, kind, w.Format)
		} else {
			e.TraceID = TraceHex(g.ID)
			e.Key = TraceObjectKey(g.ID, now, kind, w.Format)
		}
		entries[i] = e
	}
	// Write-ahead index: every object that may exist is named by an index
	// object of its hour, so prune and list never need to scan traces/.
	idx, err := encodeIndex(w.Format, entries)
	if err != nil {
		return st, err
	}
	if err := w.put(ctx, IndexKey(now, w.Format), idx, "application/x-ndjson"); err != nil {
		return st, fmt.Errorf("write index: %w", err)
	}

	conc := w.Concurrency
	if conc <= 0 {
		conc = 16
	}
	if conc > len(groups) {
		conc = len(groups)
	}
	var next atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(groups) || ctx.Err() != nil {
					return
				}
				if err := w.put(ctx, entries[i].Key, payloads[i], w.Format.ContentType()); err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("write %s: %w", entries[i].Key, err); cancel() })
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return st, firstErr
	}
	for i := range entries {
		st.Objects++
		st.Bytes += int64(entries[i].Bytes)
		st.Items += entries[i].Count
	}
	return st, nil
}

// put writes one object whole: gocloud's writers publish it only on a
// successful Close (a rename for file://, a single PUT for S3), so a
// reader never sees a partial object.
func (w *Writer) put(ctx context.Context, key string, data []byte, contentType string) error {
	// No Content-Encoding header on purpose: some stores and clients
	// decompress "gzip" objects transparently, and the key's suffix
	// already says how the bytes are compressed.
	opts := &blob.WriterOptions{ContentType: contentType, DisableContentTypeDetection: true}
	return w.Bucket.WriteAll(ctx, key, data, opts)
}
