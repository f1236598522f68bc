package archive_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/require"
	"gocloud.dev/blob"

	"github.com/sandwatch/sandwatch/internal/archive"
	"github.com/sandwatch/sandwatch/internal/traceql"
)

// TestOldZstdCatalogsStayReadable: catalogs and anomaly indexes of zstd
// blocks were zstd (.idx.json.zst, .anom.json.zst) before they were S2.
// An archive whose index objects are all in the old encoding answers
// list, search (catalog pruning, extension lookups, the anomaly index)
// exactly as the same archive in the new one.
func TestOldZstdCatalogsStayReadable(t *testing.T) {
	ctx := context.Background()
	base := time.Date(2026, 11, 30, 22, 30, 0, 0, time.UTC)
	g := synthetic{Traces: 400, Per: 50, Exts: 5, Base: base, Step: 5 * time.Second, EvilEvery: 13, ErrEvery: 11, Format: archive.DefaultFormat}
	r := newSyntheticArchive(t, g)
	queries := []string{
		`{}`,
		`{ span.sandwatch.extension = "ext-003" }`,
		`{ span.sandwatch.anomaly = "exfiltration" }`,
		`{ span.sandwatch.extension = "ext-000" } && { span.sandwatch.anomaly = "exfiltration" }`,
		`{ span.sandwatch.extension = "ext-000" && span.sandwatch.anomaly != nil }`,
	}
	search := func() ([][]archive.TraceMatch, []archive.IndexEntry) {
		var out [][]archive.TraceMatch
		for _, s := range queries {
			q, err := traceql.Parse(s)
			require.NoError(t, err)
			res, err := r.Search(ctx, archive.SearchRequest{Query: q, Start: base.Add(-time.Hour), End: base.Add(3 * time.Hour), Limit: 1000, SpansPerSet: 3})
			require.NoError(t, err, s)
			require.Empty(t, res.Partial, s)
			out = append(out, res.Traces)
		}
		var entries []archive.IndexEntry
		require.NoError(t, r.Entries(ctx, archive.Window{}, func(e archive.IndexEntry) error {
			entries = append(entries, e)
			return nil
		}))
		return out, entries
	}
	newResults, newEntries := search()
	require.NotEmpty(t, newEntries)
	require.NotEmpty(t, newResults[2], "the anomaly index answers")

	converted := toOldCatalogs(t, r.Bucket)
	require.Positive(t, converted)
	r = &archive.Reader{Bucket: r.Bucket, LocalDir: r.LocalDir} // no cached index objects
	oldResults, oldEntries := search()
	require.Equal(t, newResults, oldResults)
	require.Equal(t, newEntries, oldEntries)
}

// toOldCatalogs rewrites every .s2 index object as the previous version
// wrote it: zstd, named .zst.
func toOldCatalogs(t *testing.T, b *blob.Bucket) int {
	ctx := context.Background()
	enc, err := zstd.NewWriter(nil)
	require.NoError(t, err)
	defer enc.Close()
	n := 0
	it := b.List(&blob.ListOptions{Prefix: archive.IndexPrefix})
	var keys []string
	for {
		obj, err := it.Next(ctx)
		if err != nil {
			break
		}
		if strings.HasSuffix(obj.Key, ".s2") {
			keys = append(keys, obj.Key)
		}
	}
	for _, k := range keys {
		data, err := b.ReadAll(ctx, k)
		require.NoError(t, err)
		raw, err := io.ReadAll(s2.NewReader(bytes.NewReader(data)))
		require.NoError(t, err)
		require.NoError(t, b.WriteAll(ctx, strings.TrimSuffix(k, ".s2")+".zst", enc.EncodeAll(raw, nil), nil))
		require.NoError(t, b.Delete(ctx, k))
		n++
	}
	return n
}
