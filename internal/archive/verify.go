package archive

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"time"

	"gocloud.dev/blob"

	"github.com/sandwatch/sandwatch/internal/archive/digest"
)

// VerifyOptions select what Verify checks.
type VerifyOptions struct {
	Keys   []ed25519.PublicKey // trusted signing keys
	Window Window              // write times; zero bounds are open
	Now    time.Time
	// PendingSlack: an object no digest names yet, written within this
	// long before the newest digest ended (or after), is pending, not
	// added: a write in flight at a cut is named by the next digest.
	// Default 2m; 0 after every writer stopped gracefully.
	PendingSlack *time.Duration
	// Writers expected to be alive: a writer without a recent digest is
	// a finding (see digest.Check.Writers).
	Writers []string
}

// Verify checks the archive against the writers' signed digests, as
// CloudTrail's validate-logs does: every digest's signature and chain,
// every block and catalog a digest names (re-hashed), and every block and
// catalog stored that no digest names. Lookup runs are derived data
// (rebuilt from the catalogs) and are not checked.
func (r *Reader) Verify(ctx context.Context, opts VerifyOptions) (*digest.Report, error) {
	if len(opts.Keys) == 0 {
		return nil, fmt.Errorf("verify: no public key to trust")
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	ds, broken, err := r.readDigests(ctx, opts.Window)
	if err != nil {
		return nil, err
	}
	stored, modTimes, err := r.hashStored(ctx, opts.Window)
	if err != nil {
		return nil, err
	}
	keyTime := func(k string) (time.Time, bool) {
		if t, ok := KeyTime(k); ok {
			return t, true
		}
		t, ok := modTimes[k]
		return t, ok
	}
	slack := 2 * time.Minute
	if opts.PendingSlack != nil {
		slack = *opts.PendingSlack
	}
	c := &digest.Check{Slack: slack, Digests: ds, Broken: broken, Stored: stored, Keys: opts.Keys,
		From: opts.Window.From, To: opts.Window.To, KeyTime: keyTime, Now: opts.Now, Writers: opts.Writers}
	return c.Run(), nil
}

// HasDigests reports whether any writer stores digests in the archive.
func (r *Reader) HasDigests(ctx context.Context) (bool, error) {
	obj, err := r.Bucket.List(&blob.ListOptions{Prefix: digest.Prefix}).Next(ctx)
	if err == io.EOF {
		return false, nil
	}
	return obj != nil, err
}

// readDigests reads the digests overlapping w and, per writer, the one
// before the first of them (to check the chain's link into the window).
func (r *Reader) readDigests(ctx context.Context, w Window) ([]*digest.Digest, map[string]error, error) {
	type keyed struct {
		key  string
		info digest.KeyInfo
	}
	byWriter := map[string][]keyed{}
	broken := map[string]error{}
	err := r.list(ctx, digest.Prefix, func(obj *blob.ListObject) error {
		info, ok := digest.ParseKey(obj.Key)
		if !ok {
			broken[obj.Key] = fmt.Errorf("not a digest key")
			return nil
		}
		byWriter[info.Writer] = append(byWriter[info.Writer], keyed{obj.Key, info})
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	var want []string
	for _, ks := range byWriter {
		sort.Slice(ks, func(i, j int) bool { return ks[i].info.Seq < ks[j].info.Seq })
		for i, k := range ks {
			in := (w.From.IsZero() || k.info.End.After(w.From)) && (w.To.IsZero() || k.info.Start.Before(w.To))
			nextIn := i+1 < len(ks) && (w.From.IsZero() || ks[i+1].info.End.After(w.From)) && (w.To.IsZero() || ks[i+1].info.Start.Before(w.To))
			if in || nextIn {
				want = append(want, k.key)
			}
		}
	}
	out := make([]*digest.Digest, len(want))
	errs := make([]error, len(want))
	parallel(len(want), func(i int) {
		raw, err := r.Bucket.ReadAll(ctx, want[i])
		if err != nil {
			errs[i] = err
			return
		}
		out[i], errs[i] = digest.Parse(want[i], raw)
	})
	var ds []*digest.Digest
	for i, d := range out {
		switch {
		case errs[i] != nil && isNotFound(errs[i]):
			// deleted between list and read: as if never listed
		case errs[i] != nil && ctx.Err() != nil:
			return nil, nil, ctx.Err()
		case errs[i] != nil:
			broken[want[i]] = errs[i]
		default:
			ds = append(ds, d)
		}
	}
	return ds, broken, nil
}

// hashStored lists every object under blocks/ and index/ written within w
// (by its key's time, or its modification time for a key that has none)
// and hashes it.
func (r *Reader) hashStored(ctx context.Context, w Window) (map[string]digest.Stored, map[string]time.Time, error) {
	var keys []string
	modTimes := map[string]time.Time{}
	collect := func(obj *blob.ListObject) error {
		t, ok := KeyTime(obj.Key)
		if !ok {
			t = obj.ModTime
			modTimes[obj.Key] = t
		}
		if w.contains(t) {
			keys = append(keys, obj.Key)
		}
		return nil
	}
	for _, prefix := range []string{BlocksPrefix, IndexPrefix} {
		// Everything under the prefix without a window; with one, the day
		// partitions it overlaps (an object outside the partitions, which
		// no reader would find, is checked by a verify without a window).
		parts := []string{prefix}
		if w.From != (time.Time{}) || w.To != (time.Time{}) {
			var err error
			if parts, err = r.days(ctx, prefix, w); err != nil {
				return nil, nil, err
			}
		}
		for _, p := range parts {
			if err := r.list(ctx, p, collect); err != nil {
				return nil, nil, err
			}
		}
	}
	sums := make([]digest.Stored, len(keys))
	errs := make([]error, len(keys))
	parallel(len(keys), func(i int) { sums[i], errs[i] = r.hashObject(ctx, keys[i]) })
	out := make(map[string]digest.Stored, len(keys))
	for i, k := range keys {
		if isNotFound(errs[i]) {
			continue // pruned since listed
		}
		if errs[i] != nil {
			return nil, nil, fmt.Errorf("read %s: %w", k, errs[i])
		}
		out[k] = sums[i]
	}
	return out, modTimes, nil
}

func (r *Reader) hashObject(ctx context.Context, key string) (digest.Stored, error) {
	rd, err := r.Bucket.NewReader(ctx, key, nil)
	if err != nil {
		return digest.Stored{}, err
	}
	defer rd.Close()
	h := sha256.New()
	n, err := io.Copy(h, rd)
	if err != nil {
		return digest.Stored{}, err
	}
	return digest.Stored{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}
