package forensic

import (
	"context"
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sandwatch/sandwatch/internal/archive"
	"github.com/sandwatch/sandwatch/internal/archive/sealed"
	"github.com/sandwatch/sandwatch/internal/simulate"
)

// TestArchiveLibraryOnEveryStore drives the archive package itself (no
// collector) against each store's emulator: a sealed, digested write, a
// lookup (ranged reads of sealed pages), a listing, a compaction, a
// recorded prune and a clean verify. A driver problem shows here, apart
// from the collector.
func TestArchiveLibraryOnEveryStore(t *testing.T) {
	eachStore(t, func(t *testing.T, s store) {
		ctx := context.Background()
		b, _, err := archive.Open(ctx, s.StoreURL(), archive.S3Options{})
		require.NoError(t, err)
		defer b.Close()
		ring := &sealed.Ring{Active: "k1"}
		require.NoError(t, ring.Add("k1", make([]byte, 32)))
		_, priv, _ := ed25519.GenerateKey(nil)
		d, err := archive.StartDigester(ctx, b, archive.DigestOptions{Writer: "lib", Key: priv})
		require.NoError(t, err)
		w := &archive.Writer{Bucket: b, Format: archive.DefaultFormat, Keys: ring, Digester: d}
		g := simulate.New(simulate.Options{Seed: 8, Extensions: 5})
		want := map[string]int{}
		for i := range 3 {
			td, _ := g.Invocation(i, time.Now())
			want[archive.TraceHex(td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).TraceID())] = td.SpanCount()
			_, err := w.WriteTraces(ctx, td)
			require.NoError(t, err)
		}
		r := &archive.Reader{Bucket: b, Keys: ring, Digester: d}
		for id, n := range want {
			tid, _ := archive.ParseTraceID(id)
			tr, err := r.Get(ctx, tid)
			require.NoError(t, err, id)
			assert.Equal(t, n, tr.Spans)
		}
		list, err := r.List(ctx, archive.ListOptions{})
		require.NoError(t, err)
		assert.Len(t, list, len(want))
		_, err = r.Compact(ctx, archive.Compaction{Fanout: 2})
		require.NoError(t, err)
		require.NoError(t, d.Flush(ctx))
		rep, err := r.Verify(ctx, archive.VerifyOptions{Keys: []ed25519.PublicKey{priv.Public().(ed25519.PublicKey)}})
		require.NoError(t, err)
		assert.Zero(t, rep.Failed(), "%+v", rep.Findings)
		assert.Equal(t, 6, rep.Objects)
		st, err := r.Prune(ctx, time.Now().Add(time.Second))
		require.NoError(t, err)
		assert.Equal(t, 3, st.Objects)
		require.NoError(t, d.Close(ctx))
		rep, err = r.Verify(ctx, archive.VerifyOptions{Keys: []ed25519.PublicKey{priv.Public().(ed25519.PublicKey)}})
		require.NoError(t, err)
		assert.Zero(t, rep.Failed(), "after a recorded prune: %+v", rep.Findings)
		list, err = r.List(ctx, archive.ListOptions{})
		require.NoError(t, err)
		assert.Empty(t, list)
	})
}
