package archive

import (
	"context"
	"fmt"
	"slices"
	"time"

	"gocloud.dev/blob"
)

// Compaction keeps the number of lookup runs, and so the requests of a
// lookup, bounded: whenever a level holds Fanout runs, they are merged
// into one run of the next level (size-tiered, as an LSM tree does), so a
// lookup reads at most Fanout-1 runs per level and there are about
// log_Fanout(writes) levels: at the default fanout 8, 1 million traces
// written 5000 per batch make ~3 levels, 100 million ~5.
type Compaction struct {
	Fanout int // runs per level that trigger a merge; default 8
	// MaxMergeBytes bounds the runs merged at once (they are held in
	// memory); a level whose runs exceed it stays unmerged. Default 256 MiB.
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
		c.MaxMergeBytes = 256 << 20
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

// merge writes the union of runs' entries (minus expired ones) as one run
// of the next level, then deletes the inputs.
func (r *Reader) merge(ctx context.Context, runs []runInfo, cutoff time.Time, st *CompactStats) error {
	var keys []string
	keyIdx := map[string]uint32{}
	var entries []runEntry
	level := 0
	var oldest, newest int64
	for _, run := range runs {
		data, err := r.Bucket.ReadAll(ctx, run.Key)
		if isNotFound(err) {
			continue // merged by another collector meanwhile
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", run.Key, err)
		}
		h, es, err := decodeRun(data)
		if err != nil {
			return fmt.Errorf("%s: %w", run.Key, err)
		}
		remap := make([]uint32, len(h.keys))
		for i, k := range h.keys {
			j, ok := keyIdx[k]
			if !ok {
				j = uint32(len(keys))
				keyIdx[k] = j
				keys = append(keys, k)
			}
			remap[i] = j
		}
		for _, e := range es {
			if !cutoff.IsZero() && e.Written < cutoff.UnixNano() {
				st.Dropped++
				continue
			}
			e.Key = remap[e.Key]
			entries = append(entries, e)
			if oldest == 0 || e.Written < oldest {
				oldest = e.Written
			}
			newest = max(newest, e.Written)
		}
		level = max(level, run.Level+1)
	}
	if len(entries) > 0 {
		slices.SortFunc(entries, compareEntries)
		entries = slices.CompactFunc(entries, func(a, b runEntry) bool { return compareEntries(a, b) == 0 })
		data := encodeRun(keys, entries)
		if err := r.putRun(ctx, runKey(level, oldest, newest), data); err != nil {
			return err
		}
		st.Written++
	}
	for _, run := range runs {
		if err := r.delete(ctx, run.Key, false); err != nil {
			return err
		}
		st.Merged++
	}
	return nil
}

func (r *Reader) putRun(ctx context.Context, key string, data []byte) error {
	opts := &blob.WriterOptions{ContentType: "application/octet-stream", DisableContentTypeDetection: true}
	if err := r.Bucket.WriteAll(ctx, key, data, opts); err != nil {
		return fmt.Errorf("write lookup run %s: %w", key, err)
	}
	return nil
}
