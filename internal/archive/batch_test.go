package archive

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// resolved is an item with its names looked up, comparable across
// batches whose name tables differ.
type resolved struct {
	TraceID         pcommon.TraceID
	Start, End      uint64
	Extension, Root string
}

func resolve(b *Batch) []resolved {
	name := func(r uint32) string {
		if r == 0 {
			return ""
		}
		return b.Names[r-1]
	}
	out := make([]resolved, len(b.Items))
	for i, m := range b.Items {
		out[i] = resolved{m.TraceID, m.Start, m.End, name(m.Extension), name(m.Root)}
	}
	return out
}

func spanIDsOf(t *testing.T, raw []byte) []pcommon.SpanID {
	td, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(raw)
	require.NoError(t, err)
	var ids []pcommon.SpanID
	for _, rs := range td.ResourceSpans().All() {
		for _, ss := range rs.ScopeSpans().All() {
			for _, s := range ss.Spans().All() {
				ids = append(ids, s.SpanID())
			}
		}
	}
	return ids
}

func TestEncodeTracesRecordsWhatTheCatalogNeeds(t *testing.T) {
	b, err := EncodeTraces(testTraces(), extOf)
	require.NoError(t, err)
	require.Equal(t, 8, b.Len())
	items := resolve(b)
	// Root spans carry their name; the extension resolver is asked until
	// a trace has a name: the first span of each trace carries it.
	assert.Equal(t, resolved{tid(0x11), 1000, 2000, "ext-a", "root"}, items[0])
	assert.Equal(t, resolved{tid(0x22), 1001, 2001, "ext-a", "root"}, items[1])
	assert.Equal(t, resolved{tid(0x11), 1002, 2002, "", ""}, items[2])
	assert.Equal(t, resolved{tid(0x11), 1000, 2000, "", "root"}, items[4], "second resource: trace already named")
	assert.Equal(t, []string{"root", "ext-a"}, b.Names, "each name interned once")
	assert.Equal(t, spanIDsOf(t, b.Raw), spanIDsOf(t, mustMarshal(t, testTraces())))
}

func mustMarshal(t *testing.T, td ptrace.Traces) []byte {
	raw, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	require.NoError(t, err)
	return raw
}

// Splitting and merging back keeps every item, its metadata and its order:
// what the sending queue does to batches between accept and write.
func TestBatchSplitThenAppendKeepsEveryItem(t *testing.T) {
	whole, err := EncodeTraces(testTraces(), extOf)
	require.NoError(t, err)
	parts, err := whole.Split(150)
	require.NoError(t, err)
	require.Greater(t, len(parts), 2)
	n := 0
	for _, p := range parts {
		assert.LessOrEqual(t, len(p.Raw), 150+64, "a part holds about maxBytes")
		assert.Len(t, spanIDsOf(t, p.Raw), p.Len(), "a part's items match its bytes")
		n += p.Len()
	}
	assert.Equal(t, whole.Len(), n)

	merged := parts[0]
	for _, p := range parts[1:] {
		require.NoError(t, merged.Append(p))
	}
	assert.Equal(t, resolve(whole), resolve(merged))
	assert.Equal(t, spanIDsOf(t, whole.Raw), spanIDsOf(t, merged.Raw))

	// Appending to one part never writes into another's shared tables.
	again, err := whole.Split(150)
	require.NoError(t, err)
	before := resolve(again[1])
	other, err := EncodeTraces(testTraces(), Extensions{OfSpan: func(pcommon.Resource, ptrace.Span) string { return "zzz" }})
	require.NoError(t, err)
	require.NoError(t, again[0].Append(other))
	assert.Equal(t, before, resolve(again[1]))

	logs, err := EncodeLogs(plog.NewLogs(), Extensions{})
	require.NoError(t, err)
	assert.Error(t, merged.Append(logs), "spans and logs never share a batch")
	small, err := whole.Split(1 << 20)
	require.NoError(t, err)
	assert.Same(t, whole, small[0], "a batch within the limit is not copied")
}

// A batch written after the queue merged it is catalogued exactly as the
// same data written whole.
func TestMergedBatchCataloguesLikeTheWhole(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 3, 4, 5, 0, 0, 0, time.UTC)
	list := func(write func(w *Writer)) []TraceSummary {
		w := &Writer{Bucket: newMem(t), Format: DefaultFormat, Extensions: extOf, Now: func() time.Time { return now }}
		write(w)
		got, err := (&Reader{Bucket: w.Bucket}).List(ctx, ListOptions{})
		require.NoError(t, err)
		return got
	}
	want := list(func(w *Writer) {
		_, err := w.WriteTraces(ctx, testTraces())
		require.NoError(t, err)
	})
	got := list(func(w *Writer) {
		whole, err := EncodeTraces(testTraces(), extOf)
		require.NoError(t, err)
		parts, err := whole.Split(100)
		require.NoError(t, err)
		for _, p := range parts[1:] {
			require.NoError(t, parts[0].Append(p))
		}
		st, err := w.Write(ctx, parts[0])
		require.NoError(t, err)
		assert.Equal(t, 8, st.Items)
	})
	require.Len(t, want, 2)
	for i := range want {
		// The merged bytes repeat resource and scope headers per part, so
		// the stored size differs a little; everything else is the same.
		want[i].Bytes, got[i].Bytes = 0, 0
	}
	assert.Equal(t, want, got)
}

func TestBatchBinaryRoundTripAndCorruption(t *testing.T) {
	b, err := EncodeTraces(testTraces(), extOf)
	require.NoError(t, err)
	data, err := b.MarshalBinary()
	require.NoError(t, err)
	back, err := UnmarshalBatch(data)
	require.NoError(t, err)
	assert.Equal(t, b, back)

	lb, err := EncodeLogs(plog.NewLogs(), Extensions{})
	require.NoError(t, err)
	ldata, err := lb.MarshalBinary()
	require.NoError(t, err)
	lback, err := UnmarshalBatch(ldata)
	require.NoError(t, err)
	assert.Equal(t, KindLogs, lback.Kind)

	// Every truncation inside the header and item table is refused (the
	// OTLP bytes that follow are checked by pagination when written).
	header := len(data) - len(b.Raw)
	_, err = UnmarshalBatch(data[:7])
	assert.ErrorIs(t, err, ErrNotABatch)
	for n := len(batchMagic); n < header; n++ {
		_, err := UnmarshalBatch(data[:n])
		assert.ErrorIs(t, err, errCorruptBatch, "truncated to %d", n)
	}
	for name, mutate := range map[string]func([]byte){
		"kind":                    func(d []byte) { d[8] = 9 },
		"name count beyond input": func(d []byte) { d[9], d[10], d[11], d[12] = 0xff, 0xff, 0xff, 0x7f },
		"name reference":          func(d []byte) { d[header-4] = 0xff },
	} {
		bad := append([]byte(nil), data...)
		mutate(bad)
		_, err := UnmarshalBatch(bad)
		assert.ErrorIs(t, err, errCorruptBatch, name)
	}
}
