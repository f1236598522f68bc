package archive

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/archive/lookuprun"
)

// traceBatch: n traces of 3 spans, trace i has id {hi, i}.
func traceBatch(hi byte, n int) ptrace.Traces {
	td := ptrace.NewTraces()
	ss := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	for i := 0; i < n; i++ {
		for k := 0; k < 3; k++ {
			s := ss.AppendEmpty()
			s.SetTraceID(pcommon.TraceID{hi, byte(i), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})
			s.SetSpanID(pcommon.SpanID{hi, byte(i), byte(k), 1})
			s.SetName("op")
		}
	}
	return td
}

func TestCompactKeepsEveryTraceFindable(t *testing.T) {
	ctx := context.Background()
	b := newMem(t)
	now := time.Date(2025, 3, 4, 5, 0, 0, 0, time.UTC)
	w := &Writer{Bucket: b, Format: DefaultFormat, Now: func() time.Time { now = now.Add(time.Second); return now }}
	r := &Reader{Bucket: b}
	// Compacting after every write, as the exporter does.
	for hi := byte(1); hi <= 20; hi++ {
		_, err := w.WriteTraces(ctx, traceBatch(hi, 50))
		require.NoError(t, err)
		_, err = r.Compact(ctx, Compaction{Fanout: 4})
		require.NoError(t, err)
	}
	// The retry of batch 3.
	_, err := w.WriteTraces(ctx, traceBatch(3, 50))
	require.NoError(t, err)
	var tr *Trace
	levels := map[int]int{}
	runs, err := r.runs(ctx)
	require.NoError(t, err)
	for _, run := range runs {
		levels[run.Level]++
	}
	for l, n := range levels {
		assert.Less(t, n, 4, "level %d holds fewer than fanout runs", l)
	}
	assert.Equal(t, 1, levels[2], "16 writes at fanout 4 reach level 2")
	assert.Len(t, runs, 1+1+1, "one of level 2, one of level 1 (4 writes), one of level 0 (the retry)")

	for hi := byte(1); hi <= 20; hi++ {
		for _, i := range []int{0, 17, 49} {
			tr, err = r.Get(ctx, pcommon.TraceID{hi, byte(i), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})
			require.NoError(t, err)
			assert.Equal(t, 3, tr.Spans, "trace %d/%d, retried copies dropped", hi, i)
		}
	}

	// Retention: entries written before the cutoff go with the next
	// merge. One more write makes level 0 hold two runs, and at fanout 2
	// the merges cascade through every level.
	_, err = w.WriteTraces(ctx, traceBatch(21, 50))
	require.NoError(t, err)
	st, err := r.Compact(ctx, Compaction{Fanout: 2, Cutoff: now.Add(-5 * time.Second)})
	require.NoError(t, err)
	assert.Equal(t, 16*50, st.Dropped, "batches 1-16 expired (the retry of 3 is younger)")
	_, err = r.Get(ctx, pcommon.TraceID{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})
	assert.ErrorIs(t, err, ErrNotFound)
	tr, err = r.Get(ctx, pcommon.TraceID{3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})
	require.NoError(t, err)
	assert.Equal(t, 3, tr.Spans, "the younger copy of batch 3")
	tr, err = r.Get(ctx, pcommon.TraceID{20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})
	require.NoError(t, err)
	assert.Equal(t, 3, tr.Spans)
	assert.Equal(t, 1, mustRuns(t, r), "the cascade ends in one run")
}

func mustRuns(t *testing.T, r *Reader) int {
	runs, err := r.runs(context.Background())
	require.NoError(t, err)
	return len(runs)
}

func TestGetAfterCompactionRace(t *testing.T) {
	ctx := context.Background()
	b := newMem(t)
	w := &Writer{Bucket: b, Format: DefaultFormat}
	for hi := byte(1); hi <= 4; hi++ {
		_, err := w.WriteTraces(ctx, traceBatch(hi, 5))
		require.NoError(t, err)
	}
	r := &Reader{Bucket: b}
	id := pcommon.TraceID{2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}
	_, err := r.Get(ctx, id) // caches the headers of the level-0 runs
	require.NoError(t, err)
	_, err = (&Reader{Bucket: b}).Compact(ctx, Compaction{Fanout: 2})
	require.NoError(t, err)
	tr, err := r.Get(ctx, id)
	require.NoError(t, err, "the merged run is found by listing again")
	assert.Equal(t, 3, tr.Spans)
}

// Two collectors that merged the same inputs leave the same entries in
// two runs; the next merge keeps one copy of each.
func TestCompactDropsDuplicateEntries(t *testing.T) {
	ctx := context.Background()
	b := newMem(t)
	w := &Writer{Bucket: b, Format: DefaultFormat}
	_, err := w.WriteTraces(ctx, traceBatch(7, 40))
	require.NoError(t, err)
	r := &Reader{Bucket: b}
	runs, err := r.runs(ctx)
	require.NoError(t, err)
	require.Len(t, runs, 1)
	data, err := b.ReadAll(ctx, runs[0].Key)
	require.NoError(t, err)
	require.NoError(t, b.WriteAll(ctx, runKey(0, runs[0].Oldest, runs[0].Newest), data, nil))

	st, err := r.Compact(ctx, Compaction{Fanout: 2})
	require.NoError(t, err)
	assert.Equal(t, CompactStats{Merged: 2, Written: 1}, st)
	runs, err = r.runs(ctx)
	require.NoError(t, err)
	require.Len(t, runs, 1)
	merged, err := b.ReadAll(ctx, runs[0].Key)
	require.NoError(t, err)
	_, entries, err := lookuprun.Decode(merged, isBlockKey)
	require.NoError(t, err)
	assert.Len(t, entries, 40, "one entry per trace (one page), duplicates dropped")
	assert.True(t, slices.IsSortedFunc(entries, lookuprun.Compare))
	assert.Equal(t, 1, runs[0].Level)
}
