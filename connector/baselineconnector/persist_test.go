package baselineconnector

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/persist"
	"github.com/sandwatch/sandwatch/internal/simulate"
)

// memStorage is an in-memory storage extension (the collector has no
// storagetest double at v0.165 in core).
type memStorage struct {
	mu   sync.Mutex
	data map[string][]byte
	gets int
}

func (m *memStorage) Start(context.Context, component.Host) error { return nil }
func (m *memStorage) Shutdown(context.Context) error              { return nil }
func (m *memStorage) GetClient(context.Context, component.Kind, component.ID, string) (storage.Client, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gets++
	return &memClient{m}, nil
}

type memClient struct{ m *memStorage }

func (c *memClient) Get(_ context.Context, k string) ([]byte, error) {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	return c.m.data[k], nil
}
func (c *memClient) Set(_ context.Context, k string, v []byte) error {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	c.m.data[k] = append([]byte(nil), v...)
	return nil
}
func (c *memClient) Delete(_ context.Context, k string) error {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	delete(c.m.data, k)
	return nil
}
func (c *memClient) Batch(ctx context.Context, ops ...*storage.Operation) error {
	for _, op := range ops {
		switch op.Type {
		case storage.Get:
			op.Value, _ = c.Get(ctx, op.Key)
		case storage.Set:
			_ = c.Set(ctx, op.Key, op.Value)
		case storage.Delete:
			_ = c.Delete(ctx, op.Key)
		}
	}
	return nil
}
func (c *memClient) Close(context.Context) error { return nil }

type hostWith map[component.ID]component.Component

func (h hostWith) GetExtensions() map[component.ID]component.Component { return h }

var storageID = component.MustNewID("file_storage")

// A restart loads the profiles: no re-learning, no new_* storm, and an
// attack after the restart is still detected.
func TestPersistenceRoundTrip(t *testing.T) {
	st := &memStorage{data: map[string][]byte{}}
	host := hostWith{storageID: st}
	withStorage := func(c *Config) { c.Storage = &storageID }
	g := simulate.New(simulate.Options{Seed: 3, Extensions: 40})

	r := newRigHost(t, withStorage, host)
	r.learn(g, 100)
	require.Empty(t, r.records())
	r.shutdown()
	r.stopped = true
	require.Contains(t, st.data, persist.MetaKey)
	snaps, err := persist.Load(context.Background(), &memClient{st})
	require.NoError(t, err)
	require.Len(t, snaps, 40)
	assert.True(t, snaps[0].Learned)
	assert.EqualValues(t, 100, snaps[0].Invocations)

	r2 := newRigHost(t, withStorage, host)
	p, ok := r2.b.eng.Profile(g.Extensions()[5].ID)
	require.True(t, ok)
	assert.True(t, p.Learned, "restored profile is past learning")
	r2.learn(g, 20)
	assert.Empty(t, r2.records(), "no new_* storm after restart")
	td, ld, inj, err := g.Inject("exfiltration", 5, r2.clock)
	require.NoError(t, err)
	r2.feed(td, ld)
	assert.Contains(t, types(r2.records()), "exfiltration")
	assert.Equal(t, inj.ExtensionID, r2.records()[0].Ext)
}

// A stored snapshot of an unknown version is neither loaded nor overwritten.
func TestPersistenceRefusesUnknownVersion(t *testing.T) {
	st := &memStorage{data: map[string][]byte{persist.MetaKey: []byte(`{"format":"sandwatch.baseline","version":99,"chunks":0}`)}}
	r := newRigHost(t, func(c *Config) { c.Storage = &storageID }, hostWith{storageID: st})
	r.learn(simulate.New(simulate.Options{Seed: 1, Extensions: 2}), 3)
	r.shutdown()
	r.stopped = true
	assert.Equal(t, `{"format":"sandwatch.baseline","version":99,"chunks":0}`, string(st.data[persist.MetaKey]))
}

func TestStorageMissingIsAStartError(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Storage = &storageID
	b, err := newBaseline(cfg, testSettings())
	require.NoError(t, err)
	err = b.Start(context.Background(), hostWith{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "file_storage")
}
