package socketguardextension

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
)

func TestSocketCreatedOwnerOnly(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "run", "otlp.sock") // the directory is created
	g, err := newGuard(&Config{Paths: []string{sock}, Mode: "0600", RemoveStale: true}, zap.NewNop())
	require.NoError(t, err)
	require.NoError(t, g.Start(context.Background(), nil))
	ln, err := net.Listen("unix", sock) // what the receiver does
	require.NoError(t, err)
	defer ln.Close()
	fi, err := os.Stat(sock)
	require.NoError(t, err)
	assert.Zero(t, fi.Mode().Perm()&0o077, "born owner-only under the narrowed umask, got %v", fi.Mode().Perm())
	require.NoError(t, g.Ready())
	fi, _ = os.Stat(sock)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	require.NoError(t, g.Shutdown(context.Background()))
}

// Components that start while the umask is narrowed (the forensic
// exporter's WAL and file:// archive) create directories their owner can
// still enter, and nobody else can.
func TestDirectoriesCreatedInTheWindowStayUsable(t *testing.T) {
	dir := t.TempDir()
	for _, mode := range []string{"0600", "0660"} {
		sock := filepath.Join(dir, "s"+mode+".sock")
		g, err := newGuard(&Config{Paths: []string{sock}, Mode: mode}, zap.NewNop())
		require.NoError(t, err)
		require.NoError(t, g.Start(context.Background(), nil))
		wal := filepath.Join(dir, "wal"+mode, "spans")
		require.NoError(t, os.MkdirAll(wal, 0o750)) // what internal/archive does
		ln, err := net.Listen("unix", sock)
		require.NoError(t, err)
		defer ln.Close()
		require.NoError(t, g.Ready())
		fi, err := os.Stat(filepath.Dir(wal))
		require.NoError(t, err)
		perm := fi.Mode().Perm()
		assert.Equal(t, os.FileMode(0o700), perm&0o700, "mode %s: the owner cannot enter a directory made in the window: %v", mode, perm)
		assert.Zero(t, perm&0o007, "mode %s: others can use %v", mode, perm)
	}
	assert.Equal(t, 0o077, windowUmask(0o600))
	assert.Equal(t, 0o007, windowUmask(0o660))
}

func TestStaleSocketRemovedLiveOneRefused(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "stale.sock")
	ln, err := net.Listen("unix", stale)
	require.NoError(t, err)
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close() // leaves the file, as a SIGKILL would
	_, err = os.Stat(stale)
	require.NoError(t, err)
	require.NoError(t, removeStaleSocket(stale))
	_, err = os.Stat(stale)
	assert.True(t, os.IsNotExist(err))

	live := filepath.Join(dir, "live.sock")
	ln, err = net.Listen("unix", live)
	require.NoError(t, err)
	defer ln.Close()
	assert.ErrorContains(t, removeStaleSocket(live), "in use")

	regular := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(regular, []byte("x"), 0o600))
	assert.ErrorContains(t, removeStaleSocket(regular), "not a socket")
}

func TestConfigValidate(t *testing.T) {
	assert.NoError(t, createDefaultConfig().Validate())
	assert.ErrorContains(t, (&Config{Mode: "rw"}).Validate(), `mode: "rw" is not an octal permission`)
	assert.ErrorContains(t, (&Config{Mode: "0400"}).Validate(), "at least 0600")
	assert.ErrorContains(t, (&Config{Mode: "0600", Paths: []string{""}}).Validate(), "paths[0]: empty path")
}
