package forensicexporter

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/sandwatch/sandwatch/internal/archive"
	"github.com/sandwatch/sandwatch/internal/archive/otlppage"
	"github.com/sandwatch/sandwatch/internal/wal"
)

// cutter follows one signal's WAL and cuts blocks from it: batches are
// merged until block_bytes (or flush_interval after the first), written
// through the archive writer, retried until stored, and only then
// released, so a segment is deleted once its blocks, catalogs and lookup
// runs are all in the store. What is not released when the collector
// stops (or dies) is replayed by the next start.
type cutter struct {
	a     *archiver
	kind  archive.Kind
	log   *wal.Log
	attrs metric.MeasurementOption

	pend    *archive.Batch
	pendEnd wal.Pos       // release up to here once pend is stored
	since   time.Time     // when pend got its first batch
	spare   archive.Batch // storage of the last block, reused for the next
}

// run returns when stop is closed, after one last attempt to store what
// it holds.
func (c *cutter) run(stop <-chan struct{}) {
	r := c.log.Reader()
	defer r.Close()
	cfg := c.a.cfg.WAL
	ctx, cancel := c.a.stoppable()
	defer cancel()
	var rec []byte
	wait := time.NewTimer(cfg.FlushInterval)
	defer wait.Stop()
	for {
		select {
		case <-stop:
			c.last()
			return
		default:
		}
		p, end, ok, err := r.Next(rec)
		switch {
		case err != nil:
			c.a.logger.Error("forensic WAL: read failed; retrying", zap.String("signal", string(c.kind)), zap.Error(err))
		case ok:
			rec = p
			c.add(p, end)
			if int64(len(c.pend.Raw)) >= cfg.BlockBytes {
				c.flush(ctx, stop)
			}
			continue
		case c.pend != nil && time.Since(c.since) >= cfg.FlushInterval:
			c.flush(ctx, stop)
			continue
		}
		next := cfg.FlushInterval
		if c.pend != nil {
			next -= time.Since(c.since)
		}
		if err != nil {
			next = time.Second
		}
		wait.Reset(max(next, time.Millisecond))
		select {
		case <-stop:
			c.last()
			return
		case <-c.log.Notify():
		case <-wait.C:
		}
	}
}

// add merges one WAL record into the pending block.
func (c *cutter) add(rec []byte, end wal.Pos) {
	b, err := archive.UnmarshalBatch(rec)
	if err == nil && b.Kind != c.kind {
		err = errors.New("a batch of the other signal")
	}
	if c.pend == nil {
		c.pend = &archive.Batch{Kind: c.kind, Raw: c.spare.Raw[:0], Items: c.spare.Items[:0], Names: c.spare.Names[:0]}
		c.since = time.Now()
	}
	c.pendEnd = end
	if err != nil {
		// The checksum held, so this is not damage on disk but bytes no
		// write will accept: skip them (counted), release past them.
		c.a.walDamaged.Add(context.Background(), 1, c.attrs)
		c.a.logger.Error("forensic WAL: skipping an unreadable batch", zap.Error(err))
		return
	}
	_ = c.pend.Append(b) // kinds match: cannot fail
}

// flush writes the pending block (in parts of at most 2 x block_bytes),
// retrying with backoff until stored or stop, then releases its records.
func (c *cutter) flush(ctx context.Context, stop <-chan struct{}) {
	if c.pend.Len() > 0 && !c.store(ctx, stop) {
		return // stopping: the records stay in the WAL for the next start
	}
	c.release()
}

func (c *cutter) store(ctx context.Context, stop <-chan struct{}) bool {
	parts, err := c.pend.Split(int(2 * c.a.cfg.WAL.BlockBytes))
	if err != nil {
		c.drop(ctx, err)
		return true
	}
	backoff := 200 * time.Millisecond
	for len(parts) > 0 {
		st, err := c.a.writer.Write(ctx, parts[0])
		if errors.Is(err, otlppage.ErrMalformed) || errors.Is(err, archive.ErrItemMismatch) {
			c.drop(ctx, err)
			return true
		}
		if c.a.record(ctx, st, err, c.attrs) == nil {
			parts = parts[1:]
			backoff = 200 * time.Millisecond
			continue
		}
		c.a.logger.Warn("forensic archive: write failed; retrying, the data waits in the WAL", zap.Error(err), zap.Duration("backoff", backoff))
		select {
		case <-stop:
			return false
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
	return true
}

// drop gives up a block whose bytes do not paginate: a retry would fail
// the same way, and holding it would block the WAL for good.
func (c *cutter) drop(ctx context.Context, err error) {
	c.a.failures.Add(ctx, 1, c.attrs)
	c.a.logger.Error("forensic archive: dropping an unreadable block", zap.Int("items", c.pend.Len()), zap.Error(err))
}

func (c *cutter) release() {
	if err := c.log.Release(c.pendEnd); err != nil {
		// Not fatal: the records stay and are written again after a
		// restart; readers drop the duplicate spans.
		c.a.logger.Warn("forensic WAL: release failed", zap.Error(err))
	}
	// The writer keeps nothing of a batch once it returns: its storage
	// serves the next block (strings in Names are immutable, the slice
	// is what is reused), unless one huge block grew it.
	c.spare = *c.pend
	if cap(c.spare.Raw) > int(4*c.a.cfg.WAL.BlockBytes) {
		c.spare = archive.Batch{}
	}
	clear(c.spare.Names) // do not pin the old strings
	c.pend = nil
}

// last makes one bounded attempt at what is pending when the collector
// stops; whatever fails is replayed at the next start.
func (c *cutter) last() {
	if c.pend == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if c.pend.Len() == 0 {
		c.release()
		return
	}
	parts, err := c.pend.Split(int(2 * c.a.cfg.WAL.BlockBytes))
	if err != nil {
		return
	}
	for _, p := range parts {
		st, err := c.a.writer.Write(ctx, p)
		if c.a.record(ctx, st, err, c.attrs) != nil {
			return
		}
	}
	c.release()
}
