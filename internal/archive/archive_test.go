package archive

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"gocloud.dev/blob"
	"gocloud.dev/blob/memblob"

	"github.com/sandwatch/sandwatch/internal/archive/lookuprun"
)

func tid(b byte) pcommon.TraceID {
	var id pcommon.TraceID
	for i := range id {
		id[i] = b
	}
	return id
}

func sid(b byte) pcommon.SpanID { return pcommon.SpanID{b, 1, 2, 3, 4, 5, 6, 7} }

// testTraces: two resources, spans of traces 0x11 and 0x22 interleaved.
func testTraces() ptrace.Traces {
	td := ptrace.NewTraces()
	for r := 0; r < 2; r++ {
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("extension.id", []string{"ext-a", "ext-b"}[r])
		ss := rs.ScopeSpans().AppendEmpty()
		ss.Scope().SetName("scope")
		for i := 0; i < 4; i++ {
			s := ss.Spans().AppendEmpty()
			s.SetTraceID(tid([]byte{0x11, 0x22}[i%2]))
			s.SetSpanID(sid(byte(r*10 + i + 1)))
			s.SetName("op")
			s.SetStartTimestamp(pcommon.Timestamp(1000 + i))
			s.SetEndTimestamp(pcommon.Timestamp(2000 + i))
			if i < 2 {
				s.SetName("root")
			} else {
				s.SetParentSpanID(sid(1))
			}
		}
	}
	return td
}

var extOf = Extensions{OfSpan: func(res pcommon.Resource, _ ptrace.Span) string {
	v, _ := res.Attributes().Get("extension.id")
	return v.Str()
}}

func TestParseTraceID(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"4bf92f3577b34da6a3ce929d0e0e4736", true},
		{"4BF92F3577B34DA6A3CE929D0E0E4736", true},
		{"00000000000000000000000000000000", false},
		{"4bf92f3577b34da6a3ce929d0e0e473", false},
		{"../../etc/passwd/../../../../../", false},
		{"4bf92f3577b34da6a3ce929d0e0e473g", false},
		{"", false},
	} {
		id, err := ParseTraceID(tc.in)
		if tc.ok {
			require.NoError(t, err, tc.in)
			assert.Equal(t, strings.ToLower(tc.in), TraceHex(id))
		} else {
			assert.ErrorIs(t, err, ErrInvalidTraceID, tc.in)
		}
	}
}

func TestKeys(t *testing.T) {
	at := time.Date(2025, 3, 4, 5, 6, 7, 8, time.UTC)
	k := newWriteKeys(at, KindSpans, DefaultFormat, false)
	assert.Regexp(t, `^blocks/2025-03-04/05/1741064767000000008-[0-9a-f]{16}\.spans\.pb\.zst$`, k.Block)
	assert.Equal(t, strings.TrimSuffix(strings.TrimPrefix(k.Block, BlocksPrefix), ".spans.pb.zst"),
		strings.TrimSuffix(strings.TrimPrefix(k.Catalog, IndexPrefix), ".idx.json.zst"), "a block and its catalog share a name")
	kind, f, ok := ParseBlockKey(k.Block)
	require.True(t, ok)
	assert.Equal(t, KindSpans, kind)
	assert.Equal(t, DefaultFormat, f)
	kt, ok := KeyTime(k.Block)
	require.True(t, ok)
	assert.True(t, kt.Equal(at))
	lk := newWriteKeys(at, KindLogs, Format{EncodingJSON, CompressionGzip}, true)
	assert.Regexp(t, `^index/2025-03-04/05/\d{19}-[0-9a-f]{16}\.idx\.json\.gz\.enc$`, lk.Catalog)
	assert.Regexp(t, `\.logs\.json\.gz\.enc$`, lk.Block)
	_, _, ok = ParseBlockKey(lk.Block)
	assert.True(t, ok, "a sealed block key parses")
	for _, bad := range []string{k.Block + ".123abc.tmp", "blocks/2025-03-04/05/abc-def.spans.pb.zst",
		"blocks/2025-03-04/05/1-2.other.pb", "blocks/2025-03-04/../../etc/1-2.spans.pb", "blocks/x/1-2.spans.pb",
		"index/x", "/etc/passwd", "blocks/2025-13-04/05/1-2.spans.pb", k.Catalog} {
		_, _, ok := ParseBlockKey(bad)
		assert.False(t, ok, bad)
	}
	rk := runKey(3, 100, 200)
	assert.Regexp(t, `^lookup/L3/0{16}200-0{16}100-[0-9a-f]{16}\.run$`, rk)
	info, ok := parseRunKey(rk)
	require.True(t, ok)
	assert.Equal(t, runInfo{Key: rk, Level: 3, Newest: 200, Oldest: 100}, info)
	for _, bad := range []string{"lookup/L3/x.run", "lookup/Lx/1-2-3.run", "lookup/L1/1-2-3.run.tmp", "lookup/L-1/1-2-3.run"} {
		_, ok := parseRunKey(bad)
		assert.False(t, ok, bad)
	}
}

// Every format round-trips through a block: what Get returns of a trace
// is exactly what was written of it.
func TestFormatsRoundTrip(t *testing.T) {
	ctx := context.Background()
	td := testTraces()
	ld := plog.NewLogs()
	rec := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	rec.Body().SetStr("hello")
	rec.SetTraceID(tid(0x22))
	for _, enc := range []Encoding{EncodingProto, EncodingJSON} {
		for _, comp := range []Compression{CompressionZstd, CompressionGzip, CompressionS2, CompressionNone} {
			f := Format{enc, comp}
			require.NoError(t, f.Validate())
			b := newMem(t)
			w := &Writer{Bucket: b, Format: f}
			_, err := w.WriteTraces(ctx, td)
			require.NoError(t, err, f)
			_, err = w.WriteLogs(ctx, ld)
			require.NoError(t, err, f)
			tr, err := (&Reader{Bucket: b}).Get(ctx, tid(0x22))
			require.NoError(t, err, f)
			want := ptrace.NewTraces()
			td.CopyTo(want)
			keepSpansOf(want, tid(0x22), map[pcommon.SpanID]struct{}{})
			assert.Equal(t, want, tr.Traces, f)
			assert.Equal(t, ld, tr.Logs, f)
			p, err := ParseFormatExt(strings.TrimPrefix(f.Ext(), "."))
			require.NoError(t, err)
			assert.Equal(t, f, p)
		}
	}
	assert.ErrorContains(t, Format{"xml", "lz4"}.Validate(), "encoding")
	assert.ErrorContains(t, Format{"xml", "lz4"}.Validate(), "compression")
	_, err := DecodeTraces(DefaultFormat, []byte("not zstd"))
	assert.Error(t, err)
	_, err = DecodeTraces(Format{EncodingProto, CompressionS2}, []byte("not s2"))
	assert.Error(t, err)
	// An S2 object that decompresses to more than a reader may hold is
	// refused.
	big, err := compress(CompressionS2, nil, make([]byte, MaxDecodedBytes+1))
	require.NoError(t, err)
	_, err = DecodeTraces(Format{EncodingProto, CompressionS2}, big)
	assert.ErrorContains(t, err, "more than")
}

func TestLookupRunsMayNameOnlyBlockKeys(t *testing.T) {
	keys := newWriteKeys(time.Unix(1, 0), KindSpans, DefaultFormat, false)
	entry := []lookuprun.Entry{{TraceID: tid(1), Len: 1}}
	_, _, err := lookuprun.Decode(lookuprun.Encode([]string{keys.Block}, entry), isBlockKey)
	require.NoError(t, err)
	for _, k := range []string{"../../etc/passwd", keys.Catalog, runKey(0, 1, 2), keys.Block + "/../x"} {
		_, _, err := lookuprun.Decode(lookuprun.Encode([]string{k}, entry), isBlockKey)
		assert.ErrorIs(t, err, lookuprun.ErrCorrupt, k)
	}
}

func newMem(t *testing.T) *blob.Bucket {
	b := memblob.OpenBucket(nil)
	t.Cleanup(func() { b.Close() })
	return b
}

func TestWriteGetListStatsPrune(t *testing.T) {
	ctx := context.Background()
	b := newMem(t)
	now := time.Date(2025, 3, 4, 5, 0, 0, 0, time.UTC)
	w := &Writer{Bucket: b, Format: DefaultFormat, Extensions: extOf, Now: func() time.Time { return now }}
	st, err := w.WriteTraces(ctx, testTraces())
	require.NoError(t, err)
	assert.Equal(t, WriteStats{Objects: 3, Bytes: st.Bytes, Items: 8}, st, "a block, its catalog, a lookup run")

	// A late span of trace 0x11 an hour later, and a retried duplicate.
	now = now.Add(time.Hour)
	late := ptrace.NewTraces()
	s := late.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetTraceID(tid(0x11))
	s.SetSpanID(sid(99))
	s.SetName("late")
	_, err = w.WriteTraces(ctx, late)
	require.NoError(t, err)
	_, err = w.WriteTraces(ctx, testTraces()) // retried batch: duplicates
	require.NoError(t, err)

	// Logs: one with a trace id, one without.
	ld := plog.NewLogs()
	lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	lrs.AppendEmpty().SetTraceID(tid(0x11))
	lrs.AppendEmpty().Body().SetStr("untraced")
	lst, err := w.WriteLogs(ctx, ld)
	require.NoError(t, err)
	assert.Equal(t, 3, lst.Objects)

	r := &Reader{Bucket: b}
	tr, err := r.Get(ctx, tid(0x11))
	require.NoError(t, err)
	assert.Equal(t, 5, tr.Spans, "4 spans + 1 late, duplicates dropped")
	assert.Equal(t, 4, tr.Objects, "blocks: first write, late span, retry, log")
	assert.Equal(t, 1, tr.Logs.LogRecordCount())

	_, err = r.Get(ctx, tid(0x33))
	assert.ErrorIs(t, err, ErrNotFound)

	all, err := r.List(ctx, ListOptions{})
	require.NoError(t, err)
	require.Len(t, all, 2)
	assert.Equal(t, TraceHex(tid(0x11)), all[0].TraceID)
	assert.Equal(t, 4+1+4, all[0].Spans)
	assert.Equal(t, 1, all[0].Logs)

	first, err := r.List(ctx, ListOptions{Window: Window{To: now}})
	require.NoError(t, err)
	require.Len(t, first, 2)
	assert.Equal(t, 4, first[0].Spans, "only the first hour")
	none, err := r.List(ctx, ListOptions{Extension: "ext-zzz"})
	require.NoError(t, err)
	assert.Empty(t, none)

	stats, err := r.Stats(ctx, Window{})
	require.NoError(t, err)
	assert.Equal(t, 2, stats.Traces)
	assert.Equal(t, 17, stats.Spans)
	assert.Equal(t, 2, stats.Logs)
	assert.Equal(t, 4, stats.IndexObjects)
	assert.Equal(t, 16, stats.Extensions["ext-a"].Spans, "the late span names no extension")

	ps, err := r.Prune(ctx, now) // everything of the first hour
	require.NoError(t, err)
	assert.Equal(t, PruneStats{IndexObjects: 2, Objects: 1}, ps, "the first hour's catalog, run and block")
	tr, err = r.Get(ctx, tid(0x22))
	require.NoError(t, err)
	assert.Equal(t, 4, tr.Spans, "the retried copy is still there")
	ps, err = r.Prune(ctx, now.Add(time.Minute))
	require.NoError(t, err)
	assert.Equal(t, PruneStats{IndexObjects: 6, Objects: 3}, ps)
	_, err = r.Get(ctx, tid(0x11))
	assert.ErrorIs(t, err, ErrNotFound)
	var left []string
	it := b.List(nil)
	for {
		o, err := it.Next(ctx)
		if err != nil {
			break
		}
		left = append(left, o.Key)
	}
	assert.Empty(t, left, "prune leaves nothing behind")
}

func TestFileStoreAtomicAndPruneDirs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b, local, err := Open(ctx, "file://"+dir+"/archive", S3Options{})
	require.NoError(t, err)
	defer b.Close()
	assert.Equal(t, filepath.Join(dir, "archive"), local)
	w := &Writer{Bucket: b, Format: DefaultFormat}
	_, err = w.WriteTraces(ctx, testTraces())
	require.NoError(t, err)
	// A temporary file left by a killed writer is not an object.
	hour := filepath.Join(local, "blocks", time.Now().UTC().Format("2006-01-02"), time.Now().UTC().Format("15"))
	require.NoError(t, os.WriteFile(filepath.Join(hour, "0000000000000000001-aaaaaaaaaaaaaaaa.spans.pb.zst.17f.tmp"), []byte("half"), 0o600))
	r := &Reader{Bucket: b, LocalDir: local}
	tr, err := r.Get(ctx, tid(0x11))
	require.NoError(t, err)
	assert.Equal(t, 4, tr.Spans)
	require.NoError(t, os.Remove(filepath.Join(hour, "0000000000000000001-aaaaaaaaaaaaaaaa.spans.pb.zst.17f.tmp")))
	_, err = r.Prune(ctx, time.Now().Add(time.Minute))
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(local, "blocks"))
	assert.True(t, os.IsNotExist(err), "empty hour directories removed")
}

func TestResolveURL(t *testing.T) {
	u, local, err := ResolveURL("s3://bucket?region=eu-west-1", S3Options{Endpoint: "http://127.0.0.1:7070", UsePathStyle: true, SSEType: "AES256"})
	require.NoError(t, err)
	assert.Empty(t, local)
	assert.Equal(t, "s3://bucket?endpoint=http%3A%2F%2F127.0.0.1%3A7070&region=eu-west-1&ssetype=AES256&use_path_style=true", u)
	wd, _ := os.Getwd()
	u, local, err = ResolveURL("file://./data/forensic", S3Options{})
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(wd, "data/forensic"), local)
	assert.Equal(t, "file://"+filepath.ToSlash(local)+"?metadata=skip&no_tmp_dir=true", u)
	_, _, err = ResolveURL("ftp://x", S3Options{})
	assert.ErrorContains(t, err, "scheme")
	assert.ErrorContains(t, S3Options{SSEType: "rot13"}.Validate(), "s3.sse_type")
	assert.ErrorContains(t, S3Options{KMSKeyID: "k"}.Validate(), "s3.kms_key_id")
}
