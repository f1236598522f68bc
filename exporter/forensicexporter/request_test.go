package forensicexporter

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	pdatareq "go.opentelemetry.io/collector/pdata/xpdata/request"

	"github.com/sandwatch/sandwatch/internal/archive"
	"github.com/sandwatch/sandwatch/internal/simulate"
)

func simulatedBatch(t *testing.T, seed uint64, spans int) (*batchRequest, ptrace.Traces) {
	g := simulate.New(simulate.Options{Seed: seed, Extensions: 20})
	td, _ := g.Batch(0, spans, time.Now())
	b, err := archive.EncodeTraces(td, archive.Extensions{})
	require.NoError(t, err)
	return &batchRequest{b: b}, td
}

func TestMergeSplitBySize(t *testing.T) {
	ctx := context.Background()
	a, tdA := simulatedBatch(t, 1, 300)
	b, tdB := simulatedBatch(t, 2, 300)
	want := tdA.SpanCount() + tdB.SpanCount()
	sizeA, sizeB := a.BytesSize(), b.BytesSize()

	merged, err := a.MergeSplit(ctx, 0, exporterhelper.RequestSizerTypeBytes, b)
	require.NoError(t, err)
	require.Len(t, merged, 1)
	assert.Equal(t, want, merged[0].ItemsCount())
	assert.Equal(t, sizeA+sizeB, merged[0].BytesSize(), "concatenation: no re-encoding")

	c, _ := simulatedBatch(t, 3, 300)
	items := c.ItemsCount()
	limit := c.BytesSize() / 3
	parts, err := c.MergeSplit(ctx, limit, exporterhelper.RequestSizerTypeBytes, nil)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(parts), 3)
	n := 0
	for _, p := range parts {
		assert.LessOrEqual(t, p.BytesSize(), limit+4096, "about the limit: a part is cut on span boundaries")
		n += p.ItemsCount()
	}
	assert.Equal(t, items, n)

	_, err = c.MergeSplit(ctx, 100, exporterhelper.RequestSizerTypeItems, nil)
	assert.ErrorContains(t, err, "bytes only")
	logs, err := archive.EncodeLogs(plog.NewLogs(), archive.Extensions{})
	require.NoError(t, err)
	_, err = c.MergeSplit(ctx, 0, exporterhelper.RequestSizerTypeBytes, &batchRequest{b: logs})
	assert.Error(t, err, "spans and logs never merge")
}

func TestQueueEncodingRoundTripAndLegacyEntries(t *testing.T) {
	req, td := simulatedBatch(t, 4, 50)
	enc := batchEncoding{kind: archive.KindSpans}
	data, err := enc.Marshal(context.Background(), req)
	require.NoError(t, err)
	_, back, err := enc.Unmarshal(data)
	require.NoError(t, err)
	assert.Equal(t, req.b, back.(*batchRequest).b)

	// An entry queued before the upgrade, in exporterhelper's encoding.
	old, err := pdatareq.MarshalTraces(context.Background(), td)
	require.NoError(t, err)
	_, legacy, err := enc.Unmarshal(old)
	require.NoError(t, err)
	assert.Equal(t, req.b.Items, legacy.(*batchRequest).b.Items)
	plain, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	require.NoError(t, err)
	_, legacy, err = enc.Unmarshal(plain)
	require.NoError(t, err)
	assert.Equal(t, td.SpanCount(), legacy.ItemsCount())

	// A spans entry is never read into the logs queue, nor garbage at all.
	_, _, err = batchEncoding{kind: archive.KindLogs}.Unmarshal(data)
	assert.ErrorContains(t, err, "logs queue")
	_, _, err = enc.Unmarshal(append([]byte("SWBATCH1"), 0xff))
	assert.Error(t, err)
}

// Through the real exporterhelper queue and batcher: many small requests
// become one write holding all of them.
func TestQueueBatchesRequestsIntoOneWrite(t *testing.T) {
	dir := t.TempDir()
	cfg := createDefaultConfig().(*Config)
	cfg.Store = "file://" + dir
	set, tel := testSettings(t)
	te, err := NewFactory().CreateTraces(context.Background(), set, cfg)
	require.NoError(t, err)
	require.NoError(t, te.Start(context.Background(), componenttest.NewNopHost()))
	g := simulate.New(simulate.Options{Seed: 9, Extensions: 10})
	total := 0
	for i := range 20 {
		td, _ := g.Invocation(i, time.Now())
		total += td.SpanCount()
		require.NoError(t, te.ConsumeTraces(context.Background(), td))
	}
	require.NoError(t, te.Shutdown(context.Background()), "shutdown flushes the batch")
	assert.Equal(t, int64(total), sumCounter(t, tel, "sandwatch_forensic_items_archived"))
	assert.Equal(t, int64(3), sumCounter(t, tel, "sandwatch_forensic_objects_written"), "one block, catalog and run for 20 requests")

	b, local, err := archive.Open(context.Background(), "file://"+dir, archive.S3Options{})
	require.NoError(t, err)
	defer b.Close()
	st, err := (&archive.Reader{Bucket: b, LocalDir: local}).Stats(context.Background(), archive.Window{})
	require.NoError(t, err)
	assert.Equal(t, total, st.Spans)
	assert.Equal(t, 20, st.Traces)
	assert.NotEmpty(t, st.Extensions, "extensions named on arrival, kept through the queue")
}

func TestConfigRejectsItemBatching(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	q := cfg.QueueConfig.Get()
	b := q.Batch.Get()
	require.NoError(t, b.Sizer.UnmarshalText([]byte("items")))
	assert.ErrorContains(t, cfg.Validate(), "sending_queue::batch::sizer: must be bytes")
}
