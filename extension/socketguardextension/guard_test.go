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
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "born 0600 under the narrowed umask")
	require.NoError(t, g.Ready())
	fi, _ = os.Stat(sock)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	require.NoError(t, g.Shutdown(context.Background()))
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
