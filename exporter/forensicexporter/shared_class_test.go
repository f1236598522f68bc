package forensicexporter

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sandwatch/sandwatch/internal/sandboxevent"
	"github.com/sandwatch/sandwatch/internal/simulate"
)

// Behind classify_once the archiver names each trace's extension from the
// batch's shared classification: the catalog metadata is what it writes
// by classifying on its own, and the scope counts the archiver's read.
func TestRequestReadsTheSharedClassification(t *testing.T) {
	set, _ := testSettings(t)
	cfg := createDefaultConfig().(*Config)
	cfg.Store = "file://" + t.TempDir()
	a, err := newArchiver(set, cfg, func() {})
	require.NoError(t, err)
	td, ld := simulate.New(simulate.Options{Seed: 4, Extensions: 20}).Batch(0, 600, time.Unix(1795000000, 0))
	require.Positive(t, ld.LogRecordCount())

	alone, err := a.tracesRequest(context.Background(), td)
	require.NoError(t, err)
	aloneLogs, err := a.logsRequest(context.Background(), ld)
	require.NoError(t, err)

	ctx, scope := sandboxevent.NewBatchScope(context.Background(), td, 1<<16)
	lctx, lscope := sandboxevent.NewBatchScope(context.Background(), ld, 1<<16)
	other := sandboxevent.MustNew(cfg.EventModel) // a connector that read the batch first
	other.SpanEventsIn(ctx, td)
	other.LogEventsIn(lctx, ld)
	shared, err := a.tracesRequest(ctx, td)
	require.NoError(t, err)
	sharedLogs, err := a.logsRequest(lctx, ld)
	require.NoError(t, err)
	st, lst := scope.Close(), lscope.Close()

	named := 0
	for _, m := range alone.(*batchRequest).b.Items {
		if m.Extension != 0 {
			named++
		}
	}
	require.Positive(t, named, "the simulator's traces name their extension")
	assert.Equal(t, alone.(*batchRequest).b, shared.(*batchRequest).b)
	assert.Equal(t, aloneLogs.(*batchRequest).b, sharedLogs.(*batchRequest).b)
	n, ln := int64(td.SpanCount()), int64(ld.LogRecordCount())
	assert.Equal(t, sandboxevent.ScopeStats{Classified: n, Reused: n}, st, "classified once, read by the archiver")
	assert.Equal(t, sandboxevent.ScopeStats{Classified: ln, Reused: ln}, lst, "classified once, read by the archiver")
}
