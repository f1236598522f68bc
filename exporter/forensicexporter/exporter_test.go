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
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/archive"
	"github.com/sandwatch/sandwatch/internal/simulate"
)

func TestDefaultConfigValid(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, cfg.Validate())
	assert.Equal(t, "file://./data/forensic", cfg.Store)
	assert.True(t, cfg.QueueConfig.HasValue())
	assert.Equal(t, 5*time.Second, cfg.QueueConfig.Get().Batch.Get().FlushTimeout)
}

func TestConfigFromYAML(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	conf := confmap.NewFromStringMap(map[string]any{
		"store":       "s3://archive",
		"s3":          map[string]any{"endpoint": "http://127.0.0.1:7070", "region": "us-east-1", "use_path_style": true},
		"compression": "gzip",
		"encoding":    "json",
		"max_age":     "72h",
		"sending_queue": map[string]any{
			"storage": "file_storage",
			"batch":   map[string]any{"flush_timeout": "2s"},
		},
	})
	require.NoError(t, conf.Unmarshal(cfg))
	require.NoError(t, cfg.Validate())
	assert.Equal(t, "file_storage", cfg.QueueConfig.Get().StorageID.String())
	assert.Equal(t, 2*time.Second, cfg.QueueConfig.Get().Batch.Get().FlushTimeout)
	assert.Equal(t, 72*time.Hour, cfg.MaxAge)
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		mut  func(*Config)
		want string
	}{
		{func(c *Config) { c.Store = "" }, "store: empty"},
		{func(c *Config) { c.Store = "ftp://x" }, "scheme"},
		{func(c *Config) { c.Encoding = "xml" }, "encoding"},
		{func(c *Config) { c.Compression = "lz4" }, "compression"},
		{func(c *Config) { c.Compaction.Fanout = 1 }, "compaction.fanout"},
		{func(c *Config) { c.Compaction.Interval = time.Millisecond }, "compaction.interval"},
		{func(c *Config) { c.Compaction.MaxMergeBytes = 10 }, "compaction.max_merge_bytes"},
		{func(c *Config) { c.MaxAge = -time.Hour }, "max_age"},
		{func(c *Config) { c.PruneInterval = time.Millisecond }, "prune_interval"},
		{func(c *Config) { c.S3.SSEType = "rot13" }, "s3.sse_type"},
		{func(c *Config) { c.EventModel.Profiles = []string{"nope"} }, "event_model"},
	} {
		cfg := createDefaultConfig().(*Config)
		tc.mut(cfg)
		assert.ErrorContains(t, cfg.Validate(), tc.want)
	}
}

func TestExportTracesAndLogs(t *testing.T) {
	dir := t.TempDir()
	cfg := createDefaultConfig().(*Config)
	cfg.Store = "file://" + dir
	cfg.QueueConfig = configoptional.None[QueueBatchConfigAlias]()
	cfg.Compaction.Fanout = 2
	set, tel := testSettings(t)
	f := NewFactory()
	te, err := f.CreateTraces(context.Background(), set, cfg)
	require.NoError(t, err)
	le, err := f.CreateLogs(context.Background(), set, cfg)
	require.NoError(t, err)
	require.NoError(t, te.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, le.Start(context.Background(), componenttest.NewNopHost()))

	g := simulate.New(simulate.Options{Seed: 7, Extensions: 5})
	td, ld := g.Invocation(1, time.Now())
	want := td.SpanCount()
	var id pcommon.TraceID = td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).TraceID()
	require.NoError(t, te.ConsumeTraces(context.Background(), td))
	require.NoError(t, le.ConsumeLogs(context.Background(), ld))

	b, local, err := archive.Open(context.Background(), "file://"+dir, archive.S3Options{})
	require.NoError(t, err)
	defer b.Close()
	r := &archive.Reader{Bucket: b, LocalDir: local}
	tr, err := r.Get(context.Background(), id)
	require.NoError(t, err)
	assert.Equal(t, want, tr.Spans)
	list, err := r.List(context.Background(), archive.ListOptions{})
	require.NoError(t, err)
	require.NotEmpty(t, list)
	assert.NotEmpty(t, list[0].Extensions, "extension named through the event model")

	// Writes beyond the fanout are compacted in the background.
	total := want
	for i := 0; i < 3; i++ {
		more, _ := g.Invocation(2+i, time.Now())
		total += more.SpanCount()
		require.NoError(t, te.ConsumeTraces(context.Background(), more))
	}
	assert.Eventually(t, func() bool {
		return sumCounter(t, tel, "sandwatch_forensic_lookup_runs_merged") >= int64(cfg.Compaction.Fanout)
	},
		5*time.Second, 10*time.Millisecond)
	require.NoError(t, te.Shutdown(context.Background()))
	require.NoError(t, le.Shutdown(context.Background()))

	got := sumCounter(t, tel, "sandwatch_forensic_items_archived")
	assert.Equal(t, int64(total+ld.LogRecordCount()), got)
	tr, err = r.Get(context.Background(), id)
	require.NoError(t, err)
	assert.Equal(t, want, tr.Spans, "found after compaction")
	assert.Positive(t, sumCounter(t, tel, "sandwatch_forensic_objects_written"))
}

func TestWriteFailureIsReturned(t *testing.T) {
	dir := t.TempDir()
	cfg := createDefaultConfig().(*Config)
	cfg.Store = "file://" + dir
	cfg.QueueConfig = configoptional.None[QueueBatchConfigAlias]()
	cfg.RetryConfig.Enabled = false
	set, tel := testSettings(t)
	te, err := NewFactory().CreateTraces(context.Background(), set, cfg)
	require.NoError(t, err)
	require.NoError(t, te.Start(context.Background(), componenttest.NewNopHost()))
	defer te.Shutdown(context.Background())
	// A file where the blocks directory must go makes every write fail.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "blocks"), []byte("x"), 0o600))
	td := ptrace.NewTraces()
	s := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetTraceID(pcommon.TraceID{1, 2, 3})
	assert.Error(t, te.ConsumeTraces(context.Background(), td), "a failed write is not acknowledged")
	assert.Equal(t, int64(1), sumCounter(t, tel, "sandwatch_forensic_write_failures"))
	_ = plog.NewLogs()
}
