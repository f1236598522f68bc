// Package persist is the versioned serialised form of the baseline
// connector's profiles, written through any key/value store (the
// collector's storage extension client, or a bbolt file read by
// sandwatchctl). Profiles are stored in gzip'd JSON chunks under a small
// meta key, so 100k profiles never make one huge value and a reader can
// check the version before decoding anything.
package persist

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/profile"
)

// Format names the payload; Version is bumped on incompatible changes.
const (
	Format  = "sandwatch.baseline"
	Version = 1
	// MetaKey holds the Meta; chunk i is under ChunkKey(i).
	MetaKey = "baseline/meta"
	// ChunkSize is the number of profiles per chunk.
	ChunkSize = 500
	// maxChunkBytes bounds a decoded chunk (hostile or corrupt files).
	maxChunkBytes = 256 << 20
)

// ChunkKey is the key of chunk i.
func ChunkKey(i int) string { return fmt.Sprintf("baseline/chunk/%06d", i) }

// Meta describes a stored snapshot.
type Meta struct {
	Format   string    `json:"format"`
	Version  int       `json:"version"`
	Chunks   int       `json:"chunks"`
	Profiles int       `json:"profiles"`
	SavedAt  time.Time `json:"saved_at"`
}

// KV is the subset of a storage client persist needs.
type KV interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Set(ctx context.Context, key string, value []byte) error
	Delete(ctx context.Context, key string) error
}

// Save writes snaps, then the meta, then deletes chunks a previous,
// larger snapshot left behind.
func Save(ctx context.Context, kv KV, snaps []profile.Snapshot, now time.Time) error {
	old, _ := readMeta(ctx, kv)
	n := 0
	for i := 0; i < len(snaps); i += ChunkSize {
		b, err := EncodeChunk(snaps[i:min(i+ChunkSize, len(snaps))])
		if err != nil {
			return err
		}
		if err := kv.Set(ctx, ChunkKey(n), b); err != nil {
			return fmt.Errorf("baseline: save chunk %d: %w", n, err)
		}
		n++
	}
	meta, _ := json.Marshal(Meta{Format: Format, Version: Version, Chunks: n, Profiles: len(snaps), SavedAt: now.UTC()})
	if err := kv.Set(ctx, MetaKey, meta); err != nil {
		return fmt.Errorf("baseline: save meta: %w", err)
	}
	if old != nil {
		for i := n; i < old.Chunks; i++ {
			_ = kv.Delete(ctx, ChunkKey(i))
		}
	}
	return nil
}

func readMeta(ctx context.Context, kv KV) (*Meta, error) {
	b, err := kv.Get(ctx, MetaKey)
	if err != nil {
		return nil, fmt.Errorf("baseline: read meta: %w", err)
	}
	if b == nil {
		return nil, nil
	}
	var m Meta
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("baseline: meta is not JSON: %w", err)
	}
	if m.Format != Format {
		return nil, fmt.Errorf("baseline: stored format %q is not %q", m.Format, Format)
	}
	if m.Version != Version {
		return nil, fmt.Errorf("baseline: stored version %d, this build reads version %d", m.Version, Version)
	}
	return &m, nil
}

// Load reads every stored profile; nothing stored is (nil, nil).
func Load(ctx context.Context, kv KV) ([]profile.Snapshot, error) {
	m, err := readMeta(ctx, kv)
	if err != nil || m == nil {
		return nil, err
	}
	var out []profile.Snapshot
	for i := 0; i < m.Chunks; i++ {
		b, err := kv.Get(ctx, ChunkKey(i))
		if err != nil {
			return nil, fmt.Errorf("baseline: read chunk %d: %w", i, err)
		}
		snaps, err := DecodeChunk(b)
		if err != nil {
			return nil, fmt.Errorf("baseline: chunk %d: %w", i, err)
		}
		out = append(out, snaps...)
	}
	return out, nil
}

// EncodeChunk is gzip'd JSON of snaps.
func EncodeChunk(snaps []profile.Snapshot) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(snaps); err != nil {
		return nil, fmt.Errorf("baseline: encode profiles: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("baseline: compress profiles: %w", err)
	}
	return buf.Bytes(), nil
}

// DecodeChunk reverses EncodeChunk.
func DecodeChunk(b []byte) ([]profile.Snapshot, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("not gzip: %w", err)
	}
	var snaps []profile.Snapshot
	if err := json.NewDecoder(io.LimitReader(zr, maxChunkBytes)).Decode(&snaps); err != nil {
		return nil, fmt.Errorf("decode profiles: %w", err)
	}
	return snaps, nil
}
