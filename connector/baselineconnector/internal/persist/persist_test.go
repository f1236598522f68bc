package persist

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/profile"
)

type mapKV map[string][]byte

func (m mapKV) Get(_ context.Context, k string) ([]byte, error) { return m[k], nil }
func (m mapKV) Set(_ context.Context, k string, v []byte) error { m[k] = v; return nil }
func (m mapKV) Delete(_ context.Context, k string) error        { delete(m, k); return nil }

func snaps(n int) []profile.Snapshot {
	out := make([]profile.Snapshot, n)
	for i := range out {
		p := profile.New(fmt.Sprintf("e-%d", i), 1)
		p.Sets[profile.ClassHost].Add(profile.Hash("a.io"), "a.io", 8)
		out[i] = p.Snapshot()
	}
	return out
}

func TestSaveLoadChunksAndShrink(t *testing.T) {
	kv := mapKV{}
	ctx := context.Background()
	got, err := Load(ctx, kv)
	require.NoError(t, err)
	assert.Nil(t, got, "nothing stored")
	require.NoError(t, Save(ctx, kv, snaps(1200), time.Unix(1, 0)))
	assert.Len(t, kv, 4, "meta and three chunks")
	got, err = Load(ctx, kv)
	require.NoError(t, err)
	require.Len(t, got, 1200)
	assert.Equal(t, []string{"a.io"}, got[1199].Targets["hosts"])
	require.NoError(t, Save(ctx, kv, snaps(10), time.Unix(2, 0)))
	assert.Len(t, kv, 2, "stale chunks deleted")
}

func TestLoadRejects(t *testing.T) {
	for name, meta := range map[string]string{
		"version": `{"format":"sandwatch.baseline","version":2,"chunks":1}`,
		"format":  `{"format":"other","version":1}`,
		"json":    `{`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Load(context.Background(), mapKV{MetaKey: []byte(meta)})
			assert.Error(t, err)
		})
	}
	_, err := Load(context.Background(), mapKV{MetaKey: []byte(`{"format":"sandwatch.baseline","version":1,"chunks":1}`), ChunkKey(0): []byte("junk")})
	assert.ErrorContains(t, err, "chunk 0")
}
