// Package profilestore is the public face of the baseline connector's
// persisted profiles, for tools (sandwatchctl baseline) that read or
// write the storage file while the collector is stopped.
package profilestore

import (
	"context"
	"time"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/persist"
	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/profile"
)

// Snapshot is one extension's persisted profile.
type Snapshot = profile.Snapshot

// DeclaredSpec is a declared profile (glob patterns per class).
type DeclaredSpec = profile.DeclaredSpec

// KV is a key/value store (a storage extension client, a bbolt bucket).
type KV = persist.KV

// Meta describes what is stored.
type Meta = persist.Meta

// Format and Version of the stored payload.
const (
	Format  = persist.Format
	Version = persist.Version
)

// Load reads every stored profile.
func Load(ctx context.Context, kv KV) ([]Snapshot, error) { return persist.Load(ctx, kv) }

// Save replaces the stored profiles.
func Save(ctx context.Context, kv KV, snaps []Snapshot, now time.Time) error {
	return persist.Save(ctx, kv, snaps, now)
}

// FileName is the file the contrib file_storage extension (v0.165) uses
// for the baseline connector named name ("" for `baseline`, "x" for
// `baseline/x`) inside its directory.
func FileName(name string) string { return "connector_baseline_" + name }

// Validate checks a declared spec's patterns.
func Validate(d *DeclaredSpec) error {
	_, err := d.Compile()
	return err
}
