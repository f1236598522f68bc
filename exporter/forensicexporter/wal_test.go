package forensicexporter

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/archive"
	"github.com/sandwatch/sandwatch/internal/simulate"
	"github.com/sandwatch/sandwatch/internal/wal"
)

func walConfig(t *testing.T, store string) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Store = "file://" + store
	cfg.WAL.Directory = filepath.Join(t.TempDir(), "wal")
	cfg.WAL.FlushInterval = 50 * time.Millisecond
	cfg.MaxAge, cfg.PruneInterval = 0, 0
	require.NoError(t, cfg.Validate())
	return cfg
}

func startTraces(t *testing.T, cfg *Config, set exporter.Settings) exporter.Traces {
	t.Helper()
	te, err := NewFactory().CreateTraces(context.Background(), set, cfg)
	require.NoError(t, err)
	require.NoError(t, te.Start(context.Background(), componenttest.NewNopHost()))
	return te
}

func storeReader(t *testing.T, dir string) *archive.Reader {
	b, local, err := archive.Open(context.Background(), "file://"+dir, archive.S3Options{})
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	return &archive.Reader{Bucket: b, LocalDir: local}
}

// archived counts the spans of ids the archive returns.
func archived(r *archive.Reader, ids map[pcommon.TraceID]int) (got, want int) {
	for id, n := range ids {
		want += n
		if tr, err := r.Get(context.Background(), id); err == nil {
			got += tr.Spans
		}
	}
	return got, want
}

func invocations(g *simulate.Generator, from, n int, ids map[pcommon.TraceID]int) ptrace.Traces {
	td := ptrace.NewTraces()
	for i := from; i < from+n; i++ {
		inv, _ := g.Invocation(i, time.Now())
		ids[inv.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).TraceID()] += inv.SpanCount()
		inv.ResourceSpans().MoveAndAppendTo(td.ResourceSpans())
	}
	return td
}

func TestWALConfig(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, confmap.NewFromStringMap(map[string]any{
		"wal": map[string]any{"directory": "/var/lib/sandwatch/wal", "fsync": "always", "max_bytes": 1 << 28},
	}).Unmarshal(cfg))
	require.NoError(t, cfg.Validate())
	assert.Equal(t, int64(1<<28), cfg.WAL.MaxBytes)
	assert.Equal(t, 16<<20, int(cfg.WAL.SegmentBytes), "defaults kept")
	for _, tc := range []struct {
		mut  func(*WALConfig)
		want string
	}{
		{func(c *WALConfig) { c.Fsync = "sometimes" }, "wal.fsync"},
		{func(c *WALConfig) { c.Fsync, c.FsyncInterval = "interval", 0 }, "wal.fsync_interval"},
		{func(c *WALConfig) { c.MaxBytes = c.SegmentBytes }, "wal.max_bytes"},
		{func(c *WALConfig) { c.SegmentBytes = 10 }, "wal.segment_bytes"},
		{func(c *WALConfig) { c.BlockBytes = 10 }, "wal.block_bytes"},
		{func(c *WALConfig) { c.FlushInterval = 0 }, "wal.flush_interval"},
	} {
		c := *cfg
		tc.mut(&c.WAL)
		assert.ErrorContains(t, c.Validate(), tc.want)
	}
	c := *cfg
	require.NoError(t, confmap.NewFromStringMap(map[string]any{"sending_queue": map[string]any{"storage": "file_storage"}}).Unmarshal(&c))
	assert.ErrorContains(t, c.Validate(), "sending_queue::storage")
}

// Through the WAL: acknowledged on append, archived by the cutter, the
// WAL released behind it.
func TestWALExport(t *testing.T) {
	store := t.TempDir()
	cfg := walConfig(t, store)
	set, tel := testSettings(t)
	te := startTraces(t, cfg, set)
	g := simulate.New(simulate.Options{Seed: 3, Extensions: 5})
	ids := map[pcommon.TraceID]int{}
	for i := range 20 {
		require.NoError(t, te.ConsumeTraces(context.Background(), invocations(g, i*5, 5, ids)))
	}
	r := storeReader(t, store)
	assert.Eventually(t, func() bool { got, want := archived(r, ids); return got == want }, 10*time.Second, 50*time.Millisecond)
	require.NoError(t, te.Shutdown(context.Background()))
	_, want := archived(r, ids)
	assert.Equal(t, int64(want), sumCounter(t, tel, "sandwatch_forensic_items_archived"))
	segs, _ := filepath.Glob(filepath.Join(cfg.WAL.Directory, "spans", "*.wal"))
	assert.LessOrEqual(t, len(segs), 1, "archived segments are deleted")
}

// Left in the WAL by a collector that died: replayed at start.
func TestWALReplayAtStart(t *testing.T) {
	store := t.TempDir()
	cfg := walConfig(t, store)
	g := simulate.New(simulate.Options{Seed: 4, Extensions: 5})
	ids := map[pcommon.TraceID]int{}
	l, _, err := wal.Open(wal.Options{Dir: filepath.Join(cfg.WAL.Directory, "spans"), MaxBytes: 1 << 30})
	require.NoError(t, err)
	for i := range 3 {
		b, err := archive.EncodeTraces(invocations(g, i*5, 5, ids), archive.Extensions{})
		require.NoError(t, err)
		rec, err := b.MarshalBinary()
		require.NoError(t, err)
		require.NoError(t, l.Append(rec))
	}
	require.NoError(t, l.Close())
	// A torn tail as a crash leaves it: cut, counted, never fatal.
	segs, _ := filepath.Glob(filepath.Join(cfg.WAL.Directory, "spans", "*.wal"))
	f, err := os.OpenFile(segs[len(segs)-1], os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, _ = f.Write([]byte{200, 0, 0, 0, 1, 2})
	require.NoError(t, f.Close())

	set, tel := testSettings(t)
	te := startTraces(t, cfg, set)
	defer te.Shutdown(context.Background())
	r := storeReader(t, store)
	assert.Eventually(t, func() bool { got, want := archived(r, ids); return got == want }, 10*time.Second, 50*time.Millisecond)
	assert.Equal(t, int64(6), sumCounter(t, tel, "sandwatch_forensic_wal_cut"))
}

// The store fails: the WAL fills to max_bytes and refuses with a
// retryable error; once the store is back everything acknowledged is
// archived and appends are accepted again.
func TestWALBackPressureAndRecovery(t *testing.T) {
	store := t.TempDir()
	cfg := walConfig(t, store)
	cfg.WAL.SegmentBytes, cfg.WAL.MaxBytes, cfg.WAL.BlockBytes = 64<<10, 256<<10, 64<<10
	set, tel := testSettings(t)
	te := startTraces(t, cfg, set)
	defer te.Shutdown(context.Background())
	blocks := filepath.Join(store, "blocks")
	require.NoError(t, os.WriteFile(blocks, []byte("x"), 0o600)) // every write fails

	g := simulate.New(simulate.Options{Seed: 5, Extensions: 5})
	ids := map[pcommon.TraceID]int{}
	var refused error
	for i := 0; i < 500 && refused == nil; i++ {
		batch := map[pcommon.TraceID]int{}
		if refused = te.ConsumeTraces(context.Background(), invocations(g, i*5, 5, batch)); refused == nil {
			for id, n := range batch {
				ids[id] += n
			}
		}
	}
	require.Error(t, refused, "the bound was never reached")
	assert.False(t, consumererror.IsPermanent(refused), "back-pressure is retryable: %v", refused)
	assert.Positive(t, sumCounter(t, tel, "sandwatch_forensic_wal_refused"))
	assert.Positive(t, sumCounter(t, tel, "sandwatch_forensic_write_failures"))

	require.NoError(t, os.Remove(blocks)) // the store is back
	r := storeReader(t, store)
	assert.Eventually(t, func() bool { got, want := archived(r, ids); return got == want }, 20*time.Second, 100*time.Millisecond)
	assert.Eventually(t, func() bool {
		return te.ConsumeTraces(context.Background(), invocations(g, 9000, 5, ids)) == nil
	}, 10*time.Second, 100*time.Millisecond, "appends accepted again")
}
