// Package forensics is `sandwatchctl forensics`: read, list, prune and
// replay the forensic archive written by the forensic exporter.
package forensics

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/sandwatch/sandwatch/internal/archive"
	"github.com/sandwatch/sandwatch/internal/archive/sealed"
)

// storeFlags open the archive.
type storeFlags struct {
	store string
	s3    archive.S3Options
	keys  []string // ID=file:PATH or ID=env:VAR
}

func (f *storeFlags) register(cmd *cobra.Command) {
	def := os.Getenv("SANDWATCH_FORENSIC_STORE")
	if def == "" {
		def = "file://./data/forensic"
	}
	fl := cmd.Flags()
	fl.StringVar(&f.store, "store", def, "archive URL: file:///dir, s3://bucket?region=..., gs://bucket, azblob://container (env SANDWATCH_FORENSIC_STORE)")
	fl.StringVar(&f.s3.Endpoint, "s3-endpoint", "", "S3-compatible endpoint, e.g. http://127.0.0.1:7070")
	fl.StringVar(&f.s3.Region, "s3-region", "", "S3 region")
	fl.BoolVar(&f.s3.UsePathStyle, "s3-path-style", false, "bucket name in the URL path (most S3-compatible servers)")
	fl.StringArrayVar(&f.keys, "key", nil, "a key-encryption key of an encrypted archive, ID=file:PATH or ID=env:VARIABLE (repeat for rotated keys)")
}

// ring loads the --key keys (nil without any).
func (f *storeFlags) ring() (*sealed.Ring, error) {
	var enc archive.Encryption
	for _, s := range f.keys {
		k, err := archive.ParseKeySource(s)
		if err != nil {
			return nil, err
		}
		enc.Keys = append(enc.Keys, k)
	}
	if err := enc.Validate(false); err != nil {
		return nil, err
	}
	return enc.Ring()
}

func (f *storeFlags) open(ctx context.Context) (*archive.Reader, func(), error) {
	if err := f.s3.Validate(); err != nil {
		return nil, nil, err
	}
	ring, err := f.ring()
	if err != nil {
		return nil, nil, err
	}
	b, local, err := archive.Open(ctx, f.store, f.s3)
	if err != nil {
		return nil, nil, err
	}
	return &archive.Reader{Bucket: b, LocalDir: local, Keys: ring}, func() { _ = b.Close() }, nil
}

// windowFlags select a time window of writes.
type windowFlags struct {
	since    time.Duration
	from, to string
}

func (w *windowFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.DurationVar(&w.since, "since", 0, "only what was written in this last duration, e.g. 1h (default: everything)")
	fl.StringVar(&w.from, "from", "", "window start, RFC 3339")
	fl.StringVar(&w.to, "to", "", "window end (exclusive), RFC 3339")
}

func (w *windowFlags) window(now time.Time) (archive.Window, error) {
	var win archive.Window
	if w.since > 0 {
		win.From = now.Add(-w.since)
	}
	for _, p := range []struct {
		s   string
		dst *time.Time
		nm  string
	}{{w.from, &win.From, "--from"}, {w.to, &win.To, "--to"}} {
		if p.s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, p.s)
		if err != nil {
			return win, fmt.Errorf("%s: %q is not RFC 3339 (2006-01-02T15:04:05Z): %w", p.nm, p.s, err)
		}
		*p.dst = t
	}
	return win, nil
}

// NewCommand returns `forensics` with its subcommands.
func NewCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "forensics",
		Short: "Read the forensic archive: get a trace by id, list, search (TraceQL), stats, prune, replay, verify",
	}
	cmd.AddCommand(getCommand(), listCommand(), searchCommand(), statsCommand(), pruneCommand(), compactCommand(), replayCommand(), verifyCommand(), keygenCommand())
	return cmd
}

// openWindow parses the window flags, then opens the store: what list and
// stats begin with.
func openWindow(ctx context.Context, sf *storeFlags, wf *windowFlags) (*archive.Reader, archive.Window, func(), error) {
	win, err := wf.window(time.Now())
	if err != nil {
		return nil, win, nil, err
	}
	r, closeFn, err := sf.open(ctx)
	return r, win, closeFn, err
}
