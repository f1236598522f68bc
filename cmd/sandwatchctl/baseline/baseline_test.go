package baseline

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/profilestore"
)

func run(t *testing.T, args ...string) (string, error) {
	cmd := NewCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestShowExportImport(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, profilestore.FileName(""))
	db, err := bolt.Open(file, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		return profilestore.Save(context.Background(), kv{tx}, []profilestore.Snapshot{
			{ID: "notes-001", Learned: true, Invocations: 100, Targets: map[string][]string{"hosts": {"api.notes.io"}}},
		}, time.Now())
	}))
	require.NoError(t, db.Close())

	out, err := run(t, "show", "--directory", dir)
	require.NoError(t, err)
	assert.Contains(t, out, "notes-001")
	assert.Contains(t, out, "detecting")

	out, err = run(t, "show", "--file", file, "--extension", "notes-001")
	require.NoError(t, err)
	assert.Contains(t, out, "api.notes.io")

	exp := filepath.Join(dir, "export.json")
	_, err = run(t, "export", "--file", file, "-o", exp)
	require.NoError(t, err)

	decl := filepath.Join(dir, "decl.yaml")
	require.NoError(t, os.WriteFile(decl, []byte("hosts: ['*.weather.io']\ntables: [forecast]\n"), 0o600))
	out, err = run(t, "import", "--file", file, "--extension", "weather-002", "--declared", decl)
	require.NoError(t, err, out)
	out, err = run(t, "show", "--file", file, "--extension", "weather-002")
	require.NoError(t, err)
	assert.Contains(t, out, "*.weather.io")

	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("hosts: ['[x']\n"), 0o600))
	_, err = run(t, "import", "--file", file, "--extension", "x", "--declared", bad)
	assert.ErrorContains(t, err, "hosts")

	_, err = run(t, "import", "--file", file, "--profiles", exp)
	require.NoError(t, err)
	out, err = run(t, "show", "--file", file)
	require.NoError(t, err)
	assert.Contains(t, out, "weather-002")

	_, err = run(t, "show")
	assert.ErrorContains(t, err, "--file")
}
