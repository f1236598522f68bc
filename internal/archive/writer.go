package archive

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"gocloud.dev/blob"

	"github.com/sandwatch/sandwatch/internal/archive/lookuprun"
	"github.com/sandwatch/sandwatch/internal/archive/sealed"
)

// WriteStats is what one write stored.
type WriteStats struct {
	Objects int   // objects written: the block, its catalog and its lookup run
	Bytes   int64 // stored bytes of the three
	Items   int   // spans or log records
}

// Writer writes batches to a bucket: per batch one block, its catalog and
// a level-0 lookup run (see the package documentation).
type Writer struct {
	Bucket     *blob.Bucket
	Format     Format
	Extensions Extensions
	Now        func() time.Time // for tests; default time.Now
	// Keys, when set, seal every block page and catalog (see package
	// sealed) with the ring's active key.
	Keys *sealed.Ring
	// Digester, when set, records the SHA-256 of every block and catalog
	// stored, for the writer's signed digests. Lookup runs are derived
	// data (rebuilt from the catalogs) and are not recorded.
	Digester *Digester
	// Lock sends S3 Object Lock retention with every block and catalog.
	Lock ObjectLock
	// Anomalies, when set, picks the anomaly events out of a logs batch;
	// the write then stores them as an anomaly index next to its catalog
	// (see AnomalyFinder).
	Anomalies func(*Batch) []AnomalyEntry
}

func (w *Writer) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

// Write stores a batch. It returns only when all three objects are stored
// (nil) or when one failed (error): a caller that acknowledges on nil
// loses nothing. A retried batch writes new objects; readers drop the
// duplicate spans by span id.
func (w *Writer) Write(ctx context.Context, b *Batch) (WriteStats, error) {
	if b.Len() == 0 {
		return WriteStats{}, nil
	}
	blk, err := encodeBlock(w.Format, b)
	if err != nil {
		return WriteStats{}, err
	}
	if w.Anomalies != nil {
		blk.Anomalies = w.Anomalies(b)
	}
	return w.write(ctx, b.Kind, blk)
}

// WriteTraces stores td (see Write).
func (w *Writer) WriteTraces(ctx context.Context, td ptrace.Traces) (WriteStats, error) {
	b, err := EncodeTraces(td, w.Extensions)
	if err != nil {
		return WriteStats{}, err
	}
	return w.Write(ctx, b)
}

// WriteLogs stores ld; records carrying a trace id are found by that id.
func (w *Writer) WriteLogs(ctx context.Context, ld plog.Logs) (WriteStats, error) {
	b, err := EncodeLogs(ld, w.Extensions)
	if err != nil {
		return WriteStats{}, err
	}
	return w.Write(ctx, b)
}

func (w *Writer) write(ctx context.Context, kind Kind, b *block) (WriteStats, error) {
	var st WriteStats
	now := w.now()
	keys := newWriteKeys(now, kind, w.Format, w.Keys != nil)
	var ok *sealed.ObjectKey
	if w.Keys != nil {
		var err error
		if ok, err = w.Keys.NewObjectKey(keys.Block); err != nil {
			return st, fmt.Errorf("encrypt %s: %w", keys.Block, err)
		}
		if b, err = sealBlock(ok, b); err != nil {
			return st, fmt.Errorf("encrypt %s: %w", keys.Block, err)
		}
	}
	entries, run := catalogEntries(b, keys.Block, kind, now)
	catalog, err := encodeIndex(w.Format, entries)
	if err != nil {
		return st, err
	}
	if w.Keys != nil {
		if catalog, err = sealObject(w.Keys, keys.Catalog, catalog); err != nil {
			return st, fmt.Errorf("encrypt %s: %w", keys.Catalog, err)
		}
	}
	runData := lookuprun.Encode([]string{keys.Block}, run)
	// The block first: a catalog or a run never names a block that was
	// not stored. A failure after it leaves an orphan block that retention
	// removes; the retry writes everything anew.
	if err := w.put(ctx, keys.Block, b.Data, w.Format.ContentType(), now); err != nil {
		return st, fmt.Errorf("write block %s: %w", keys.Block, err)
	}
	if err := w.put(ctx, keys.Catalog, catalog, "application/x-ndjson", now); err != nil {
		return st, fmt.Errorf("write catalog %s: %w", keys.Catalog, err)
	}
	if len(b.Anomalies) > 0 {
		n, err := w.putAnomalies(ctx, keys.Catalog, b.Anomalies)
		if err != nil {
			return st, err
		}
		st.Objects++
		st.Bytes += n
	}
	if len(run) > 0 {
		rk := runKey(0, now.UnixNano(), now.UnixNano())
		// Runs are derived and compaction deletes them: never locked.
		if err := putObject(ctx, w.Bucket, rk, runData, "application/octet-stream", ObjectLock{}, now); err != nil {
			return st, fmt.Errorf("write lookup run %s: %w", rk, err)
		}
		st.Objects++
		st.Bytes += int64(len(runData))
	}
	st.Objects += 2
	st.Bytes += int64(len(b.Data) + len(catalog))
	st.Items = b.Items
	return st, nil
}

// catalogEntries is what the catalog and the lookup run of block b,
// stored at blockKey, say of each trace.
func catalogEntries(b *block, blockKey string, kind Kind, now time.Time) ([]IndexEntry, []lookuprun.Entry) {
	entries := make([]IndexEntry, len(b.Traces))
	var run []lookuprun.Entry
	perItem := float64(len(b.Data)) / float64(max(b.Items, 1))
	for i := range b.Traces {
		t := &b.Traces[i]
		e := IndexEntry{Key: blockKey, Kind: kind, Count: t.Count, Bytes: int(perItem * float64(t.Count)),
			Start: t.Start, End: t.End, Extension: t.Extension, RootName: t.RootName,
			Pages: make([][2]uint64, len(t.Pages))}
		for j, p := range t.Pages {
			e.Pages[j] = [2]uint64{b.Pages[p].Off, uint64(b.Pages[p].Len)}
		}
		if !t.ID.IsEmpty() {
			e.TraceID = TraceHex(t.ID)
			for _, p := range t.Pages {
				run = append(run, lookuprun.Entry{TraceID: t.ID, Off: b.Pages[p].Off, Len: b.Pages[p].Len, Written: now.UnixNano()})
			}
		}
		entries[i] = e
	}
	return entries, run
}

// put stores a block or a catalog and records its hash for the digests.
func (w *Writer) put(ctx context.Context, key string, data []byte, contentType string, now time.Time) error {
	if err := putObject(ctx, w.Bucket, key, data, contentType, w.Lock, now); err != nil {
		return err
	}
	if w.Digester != nil {
		w.Digester.Record(key, data)
	}
	return nil
}
