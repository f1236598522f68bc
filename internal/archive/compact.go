package archive

import (
	"bufio"
	"container/heap"
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"gocloud.dev/blob"

	"github.com/sandwatch/sandwatch/internal/archive/lookuprun"
)

// Compaction keeps the number of lookup runs, and so the requests of a
// lookup, bounded: whenever a level holds Fanout runs, they are merged
// into one run of the next level (size-tiered, as an LSM tree does), so a
// lookup reads at most Fanout-1 runs per level and there are about
// log_Fanout(writes) levels: at the default fanout 8, 1 million traces
// written 5000 per batch make ~3 levels, 100 million ~5.
type Compaction struct {
	Fanout int // runs per level that trigger a merge; default 8
	// MaxMergeBytes bounds the bytes one merge reads (and so its
	// duration); a level whose runs exceed it stays unmerged. Memory does
	// not depend on it: merges stream. Default 8 GiB.
	MaxMergeBytes int64
	// Cutoff drops entries written before it (retention); zero keeps all.
	Cutoff time.Time
}

// CompactStats is what a compaction did.
type CompactStats struct {
	Merged  int // runs merged (and deleted)
	Written int // runs written
	Dropped int // expired entries dropped
}

// Compact merges lookup runs until no level holds Fanout runs. Several
// collectors compacting one bucket at once is safe: the merged run is
// stored before its inputs are deleted, so a reader finds every entry at
// all times; two merges of the same inputs store the entries twice, which
// readers drop and the next merge removes.
func (r *Reader) Compact(ctx context.Context, c Compaction) (CompactStats, error) {
	var st CompactStats
	if c.Fanout < 2 {
		c.Fanout = 8
	}
	if c.MaxMergeBytes <= 0 {
		c.MaxMergeBytes = 8 << 30
	}
	for {
		runs, err := r.runs(ctx)
		if err != nil {
			return st, err
		}
		batch := pickMerge(runs, c)
		if batch == nil {
			return st, nil
		}
		if err := r.merge(ctx, batch, c.Cutoff, &st); err != nil {
			return st, err
		}
	}
}

// pickMerge returns the runs of the lowest level holding Fanout runs that
// fit MaxMergeBytes together (oldest first), or nil.
func pickMerge(runs []runInfo, c Compaction) []runInfo {
	byLevel := map[int][]runInfo{}
	for _, r := range runs {
		byLevel[r.Level] = append(byLevel[r.Level], r)
	}
	levels := make([]int, 0, len(byLevel))
	for l := range byLevel {
		levels = append(levels, l)
	}
	slices.Sort(levels)
	for _, l := range levels {
		rs := byLevel[l]
		if len(rs) < c.Fanout {
			continue
		}
		slices.SortFunc(rs, func(a, b runInfo) int { return int(a.Newest - b.Newest) })
		var size int64
		n := 0
		for n < len(rs) && size+rs[n].Size <= c.MaxMergeBytes {
			size += rs[n].Size
			n++
		}
		if n >= 2 {
			return rs[:n]
		}
	}
	return nil
}

// merge streams the union of runs' entries (minus expired and duplicate
// ones) into one run of the next level, then deletes the inputs. Memory is
// one 64 KiB read buffer per input plus the output's fences, whatever the
// runs' size.
func (r *Reader) merge(ctx context.Context, runs []runInfo, cutoff time.Time, st *CompactStats) error {
	var keys []string
	keyIdx := map[string]uint32{}
	var cursors []*runCursor
	defer func() {
		for _, c := range cursors {
			c.close()
		}
	}()
	level := 0
	var oldest, newest int64
	for _, run := range runs {
		h, _, err := r.runFooter(ctx, run)
		if isNotFound(err) {
			continue // merged by another collector meanwhile
		}
		if err != nil {
			return fmt.Errorf("%s: %w", run.Key, err)
		}
		remap := make([]uint32, len(h.Keys))
		for i, k := range h.Keys {
			j, ok := keyIdx[k]
			if !ok {
				j = uint32(len(keys))
				keyIdx[k] = j
				keys = append(keys, k)
			}
			remap[i] = j
		}
		level = max(level, run.Level+1)
		if oldest == 0 || run.Oldest < oldest {
			oldest = run.Oldest
		}
		newest = max(newest, run.Newest)
		c, err := r.openCursor(ctx, run.Key, h, remap)
		if err != nil {
			return err
		}
		if c != nil {
			cursors = append(cursors, c)
		}
	}
	if len(cursors) > 0 {
		written, err := r.writeMerged(ctx, runKey(level, oldest, newest), keys, cursors, cutoff, st)
		if err != nil {
			return err
		}
		if written {
			st.Written++
		}
	}
	for _, run := range runs {
		if err := r.delete(ctx, run.Key, false); err != nil {
			return err
		}
		st.Merged++
	}
	return nil
}

// writeMerged writes the k-way merge of cursors to key; it stores nothing
// (and returns false) when every entry expired.
func (r *Reader) writeMerged(ctx context.Context, key string, keys []string, cursors []*runCursor, cutoff time.Time, st *CompactStats) (bool, error) {
	wctx, abort := context.WithCancel(ctx)
	defer abort()
	opts := &blob.WriterOptions{ContentType: "application/octet-stream", DisableContentTypeDetection: true}
	w, err := r.Bucket.NewWriter(wctx, key, opts)
	if err != nil {
		return false, fmt.Errorf("write lookup run %s: %w", key, err)
	}
	published := false
	defer func() {
		if !published {
			abort() // cancelled before Close: nothing is published
			_ = w.Close()
		}
	}()
	rw := lookuprun.NewWriter(w, keys)
	h := cursorHeap(cursors)
	heap.Init(&h)
	var last lookuprun.Entry
	n := 0
	for h.Len() > 0 {
		c := h[0]
		e := c.cur
		if err := c.next(); err != nil {
			return false, err
		}
		if c.done {
			heap.Pop(&h)
		} else {
			heap.Fix(&h, 0)
		}
		if !cutoff.IsZero() && e.Written < cutoff.UnixNano() {
			st.Dropped++
			continue
		}
		if n > 0 && lookuprun.Compare(e, last) == 0 {
			continue // two merges of the same inputs, merged again
		}
		if err := rw.Add(e); err != nil {
			return false, fmt.Errorf("write lookup run %s: %w", key, err)
		}
		last = e
		n++
	}
	if n == 0 {
		return false, nil
	}
	if err := rw.Finish(); err != nil {
		return false, fmt.Errorf("write lookup run %s: %w", key, err)
	}
	published = true
	if err := w.Close(); err != nil {
		return false, fmt.Errorf("write lookup run %s: %w", key, err)
	}
	return true, nil
}

// runCursor reads a run's entries in order, with block keys renumbered
// into the merged run's key table.
type runCursor struct {
	rd    *blob.Reader
	br    *bufio.Reader
	nk    int
	remap []uint32
	left  int
	cur   lookuprun.Entry
	done  bool
	buf   [lookuprun.EntrySize]byte
}

// openCursor opens a cursor on the first entry (nil for an empty run).
func (r *Reader) openCursor(ctx context.Context, key string, h *lookuprun.Header, remap []uint32) (*runCursor, error) {
	if h.Entries == 0 {
		return nil, nil
	}
	rd, err := r.Bucket.NewRangeReader(ctx, key, 0, int64(h.Entries)*lookuprun.EntrySize, nil)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	c := &runCursor{rd: rd, br: bufio.NewReaderSize(rd, 64<<10), nk: len(h.Keys), remap: remap, left: h.Entries}
	if err := c.next(); err != nil {
		c.close()
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	return c, nil
}

// next loads the next entry into cur, or sets done.
func (c *runCursor) next() error {
	if c.left == 0 {
		c.done = true
		return nil
	}
	if _, err := io.ReadFull(c.br, c.buf[:]); err != nil {
		return fmt.Errorf("%w: %v", lookuprun.ErrCorrupt, err)
	}
	e, err := lookuprun.DecodeEntry(c.buf[:], c.nk)
	if err != nil {
		return err
	}
	e.Key = c.remap[e.Key]
	c.cur = e
	c.left--
	return nil
}

func (c *runCursor) close() { _ = c.rd.Close() }

// cursorHeap orders cursors by their current entry.
type cursorHeap []*runCursor

func (h cursorHeap) Len() int           { return len(h) }
func (h cursorHeap) Less(i, j int) bool { return lookuprun.Compare(h[i].cur, h[j].cur) < 0 }
func (h cursorHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *cursorHeap) Push(x any)        { *h = append(*h, x.(*runCursor)) }
func (h *cursorHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}
