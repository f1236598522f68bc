package forensics

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sandwatch/sandwatch/internal/archive"
	"github.com/sandwatch/sandwatch/internal/simulate"
)

// TestKeygenVerifyPrune: a key pair from keygen signs a writer's digests;
// verify passes, a signed prune keeps it passing, an unsigned one does
// not, and a flipped byte fails it with a non-zero exit.
func TestKeygenVerifyPrune(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	key := filepath.Join(t.TempDir(), "k.pem")
	out, err := run(t, "keygen", "--out", key)
	require.NoError(t, err, out)
	store := "file://" + dir
	b, _, err := archive.Open(ctx, store, archive.S3Options{})
	require.NoError(t, err)
	defer b.Close()
	d, err := archive.Integrity{SigningKeyFile: key, WriterID: "w1"}.Start(ctx, b, archive.ObjectLock{}, 0, nil)
	require.NoError(t, err)
	w := &archive.Writer{Bucket: b, Format: archive.DefaultFormat, Digester: d}
	g := simulate.New(simulate.Options{Seed: 5, Extensions: 4})
	for i := range 3 {
		td, _ := g.Invocation(i, time.Now())
		_, err := w.WriteTraces(ctx, td)
		require.NoError(t, err)
	}
	require.NoError(t, d.Close(ctx))

	args := []string{"verify", "--store", store, "--public-key", key + ".pub"}
	out, err = run(t, args...)
	require.NoError(t, err, out)
	assert.Contains(t, out, "6 objects verified")
	out, err = run(t, append(args, "--since", "1h")...)
	require.NoError(t, err, out)
	assert.Contains(t, out, "6 objects verified", "a window reads the day partitions")
	out, err = run(t, append(args, "--from", time.Now().Add(time.Hour).UTC().Format(time.RFC3339))...)
	require.NoError(t, err, out)
	assert.Contains(t, out, "0 objects stored", "nothing was written in the future")

	out, err = run(t, "prune", "--store", store, "--max-age", "0s", "--signing-key", key, "--writer-id", "ops")
	require.NoError(t, err, out)
	out, err = run(t, args...)
	require.NoError(t, err, out)
	assert.Equal(t, 6, strings.Count(out, " pruned "), out)

	// Unsigned: the same kind of deletion is a finding.
	td, _ := g.Invocation(9, time.Now())
	d, err = archive.Integrity{SigningKeyFile: key, WriterID: "w1"}.Start(ctx, b, archive.ObjectLock{}, 0, nil)
	require.NoError(t, err)
	w.Digester = d
	_, err = w.WriteTraces(ctx, td)
	require.NoError(t, err)
	require.NoError(t, d.Close(ctx))
	out, err = run(t, "prune", "--store", store, "--max-age", "0s")
	require.NoError(t, err, out)
	assert.Contains(t, out, "not recorded")
	out, err = run(t, args...)
	require.Error(t, err, out)
	assert.Contains(t, out, " deleted ")
}
