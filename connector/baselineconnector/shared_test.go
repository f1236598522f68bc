package baselineconnector

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/persist"
	"github.com/sandwatch/sandwatch/internal/archive"
	"github.com/sandwatch/sandwatch/internal/simulate"
)

func withShared(store string, mutate func(*SharedStoreConfig)) func(*Config) {
	return func(c *Config) {
		s := SharedStoreConfig{Store: store}
		if mutate != nil {
			mutate(&s)
		}
		c.SharedStore = &s
	}
}

// settle waits until no record is held for a profile load.
func (r *rig) settle() {
	r.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		r.b.mu.Lock()
		held, pending := r.b.shared.held, len(r.b.shared.pending)
		r.b.mu.Unlock()
		if held == 0 && pending == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	r.t.Fatal("records still held for profile loads after 10s")
}

func (r *rig) stop() {
	r.shutdown()
	r.stopped = true
}

func readObject(t *testing.T, dir, id string) *persist.Object {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(persist.ObjectKey("baseline/profiles/", id))))
	require.NoError(t, err)
	o, err := persist.DecodeObject(b)
	require.NoError(t, err)
	return o
}

// A replica that learned saves one object per extension at shutdown; a
// fresh replica that then receives those extensions loads their profiles
// before judging: no re-learning, no new_* storm, attacks detected.
func TestSharedStoreHandOff(t *testing.T) {
	dir := t.TempDir()
	shared := withShared("file://"+dir, nil)
	g := simulate.New(simulate.Options{Seed: 3, Extensions: 30})

	a := newRig(t, shared)
	a.learn(g, 100)
	a.settle()
	require.Empty(t, a.records())
	a.stop()
	files, err := filepath.Glob(filepath.Join(dir, "baseline", "profiles", "*.json.gz"))
	require.NoError(t, err)
	require.Len(t, files, 30, "one object per extension")
	o := readObject(t, dir, g.Extensions()[7].ID)
	assert.True(t, o.Profile.Learned)
	assert.EqualValues(t, 100, o.Profile.Invocations)
	assert.NotEmpty(t, o.Replica)

	b := newRig(t, shared)
	_, ok := b.b.eng.Profile(g.Extensions()[7].ID)
	require.False(t, ok, "profiles are loaded on demand, not at start")
	b.learn(g, 20)
	b.settle()
	assert.Empty(t, b.records(), "no re-learning storm on the new owner")
	p, ok := b.b.eng.Profile(g.Extensions()[7].ID)
	require.True(t, ok)
	assert.True(t, p.Learned)
	assert.EqualValues(t, 120, p.Invocations, "the stored 100 plus the 20 judged here")
	td, ld, inj, err := g.Inject("exfiltration", 7, b.clock)
	require.NoError(t, err)
	b.feed(td, ld)
	b.settle()
	recs := b.records()
	require.Contains(t, types(recs), "exfiltration")
	for _, rec := range recs {
		assert.Equal(t, inj.ExtensionID, rec.Ext)
		assert.Equal(t, [16]byte(inj.TraceID), rec.TraceID, "only the attack's trace")
		assert.Equal(t, "detecting", rec.Learning)
	}
}

// A replica writes only the profiles it saw since its last save: the
// profile of an extension that moved away is not overwritten with its
// stale copy.
func TestSharedStoreSavesOnlyWhatItSaw(t *testing.T) {
	dir := t.TempDir()
	g := simulate.New(simulate.Options{Seed: 4, Extensions: 4})
	r := newRig(t, withShared("file://"+dir, nil))
	r.learn(g, 5)
	r.settle()
	require.NoError(t, r.b.shared.save(context.Background()))
	r.advance(time.Hour)
	// The save after next re-reads what was finalised late; then no more.
	require.NoError(t, r.b.shared.save(context.Background()))
	moved := g.Extensions()[0].ID
	before := readObject(t, dir, moved)
	for range 3 {
		td, ld := g.Invocation(1, r.clock)
		r.feed(td, ld)
		r.advance(10 * time.Millisecond)
	}
	r.settle()
	r.advance(5 * time.Second) // past idle_timeout: the invocations are folded in
	r.b.tick(context.Background(), false)
	require.NoError(t, r.b.shared.save(context.Background()))
	assert.Equal(t, before.SavedAt, readObject(t, dir, moved).SavedAt, "the moved extension's object is untouched")
	assert.EqualValues(t, 8, readObject(t, dir, g.Extensions()[1].ID).Profile.Invocations, "the extension it saw is saved")
}

// A store that does not answer delays judgement by load_timeout, never
// more, and the pipeline is not blocked meanwhile.
func TestSharedStoreStalledIsBounded(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() { // accepts, never answers
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	t.Setenv("AWS_ACCESS_KEY_ID", "k")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "s")
	t.Setenv("AWS_REGION", "us-east-1")
	r := newRig(t, withShared("s3://profiles", func(s *SharedStoreConfig) {
		s.S3.Endpoint, s.S3.UsePathStyle = "http://"+ln.Addr().String(), true
		s.LoadTimeout, s.Timeout = 200*time.Millisecond, time.Second
	}))
	defer func() { // the final save cannot reach the store either, and says so
		r.stopped = true
		err := errors.Join(r.traces.Shutdown(context.Background()), r.tm.Shutdown(context.Background()), r.logs.Shutdown(context.Background()))
		assert.ErrorContains(t, err, "not saved")
	}()
	g := simulate.New(simulate.Options{Seed: 5, Extensions: 2})
	start := time.Now()
	td, ld, _, err := g.Inject("capability-denied", 0, r.clock)
	require.NoError(t, err)
	r.feed(td, ld)
	assert.Less(t, time.Since(start), 100*time.Millisecond, "consume does not wait for the store")
	time.Sleep(300 * time.Millisecond)
	assert.Empty(t, r.records(), "held until load_timeout on the collector's clock")
	r.advance(250 * time.Millisecond)
	r.settle()
	assert.Contains(t, types(r.records()), "capability_denied", "judged after load_timeout without the profile")
	p, ok := r.b.eng.Profile(g.Extensions()[0].ID)
	require.True(t, ok)
	assert.False(t, p.Learned, "a fresh profile learns meanwhile")
	r.b.mu.Lock()
	fb := r.b.shared.fellBack[g.Extensions()[0].ID]
	r.b.mu.Unlock()
	require.NotNil(t, fb, "the load is retried later")
}

func TestSharedStoreConfig(t *testing.T) {
	for name, tc := range map[string]struct {
		mutate func(*Config)
		want   string
	}{
		"both":       {func(c *Config) { c.Storage = &storageID; c.SharedStore = &SharedStoreConfig{Store: "mem://"} }, "storage and shared_store"},
		"no store":   {func(c *Config) { c.SharedStore = &SharedStoreConfig{} }, "shared_store.store: required"},
		"scheme":     {func(c *Config) { c.SharedStore = &SharedStoreConfig{Store: "ftp://x"} }, "shared_store.store"},
		"timeout":    {func(c *Config) { c.SharedStore = &SharedStoreConfig{Store: "mem://", LoadTimeout: time.Hour} }, "shared_store.load_timeout"},
		"sse":        {func(c *Config) { c.SharedStore = &SharedStoreConfig{Store: "s3://b", S3: s3Opts("bogus")} }, "shared_store.s3.sse_type"},
		"abs prefix": {func(c *Config) { c.SharedStore = &SharedStoreConfig{Store: "mem://", Prefix: "/x"} }, "shared_store.prefix"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := createDefaultConfig().(*Config)
			tc.mutate(cfg)
			assert.ErrorContains(t, cfg.Validate(), tc.want)
		})
	}
	cfg := createDefaultConfig().(*Config)
	cfg.SharedStore = &SharedStoreConfig{Store: "s3://bucket?region=us-east-1"}
	assert.NoError(t, cfg.Validate())
	d := cfg.SharedStore.withDefaults()
	assert.Equal(t, "baseline/profiles/", d.Prefix)
	assert.Equal(t, time.Second, d.LoadTimeout)
}

type archiveS3 = archive.S3Options

func s3Opts(sse string) (o archiveS3) {
	o.SSEType = sse
	return o
}

// A stored profile that arrives after its spans were judged without it
// (the store was slow) replaces the fresh one learned meanwhile; one older
// than the profile held here does not.
func TestSharedStoreLateAndCurrent(t *testing.T) {
	dir := t.TempDir()
	g := simulate.New(simulate.Options{Seed: 6, Extensions: 2})
	a := newRig(t, withShared("file://"+dir, nil))
	a.learn(g, 100)
	a.settle()
	a.stop()
	stored := readObject(t, dir, g.Extensions()[0].ID).Profile

	r := newRig(t, withShared("file://"+dir, nil))
	id := g.Extensions()[0].ID
	r.b.mu.Lock()
	// As after a load_timeout: a fresh profile judges, the load is in flight.
	r.b.shared.fallBack(id, 0, r.clock.UnixNano(), true)
	r.b.mu.Unlock()
	td, ld := g.Invocation(0, r.clock)
	r.feed(td, ld)
	p, _ := r.b.eng.Profile(id)
	require.False(t, p.Learned, "judged with a fresh profile")
	r.b.shared.locked(func(ts int64) { r.b.shared.apply([]loadResult{{id: id, snap: &stored}}, ts) })
	p, _ = r.b.eng.Profile(id)
	assert.True(t, p.Learned, "the late stored profile replaced the fresh one")
	assert.EqualValues(t, 100, p.Invocations)

	// A held profile newer than the stored one is kept.
	other := g.Extensions()[1].ID
	old := readObject(t, dir, other).Profile
	old.Invocations = 7
	r.b.mu.Lock()
	r.b.shared.fallBack(other, old.LastSeen+1, r.clock.UnixNano(), true)
	r.b.mu.Unlock()
	r.b.shared.locked(func(ts int64) { r.b.shared.apply([]loadResult{{id: other, snap: &old}}, ts) })
	_, held := r.b.eng.Profile(other)
	assert.False(t, held, "not installed: the replica's own copy is newer")
	r.b.mu.Lock()
	assert.Empty(t, r.b.shared.fellBack, "both loads resolved")
	r.b.mu.Unlock()
}
