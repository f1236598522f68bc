package baselineconnector

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"
	"gocloud.dev/blob"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/persist"
	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/profile"
)

func (s *sharedStore) saveLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.b.cfg.SaveInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if err := s.save(s.ctx); err != nil {
				s.b.set.Logger.Warn("baseline: saving profiles to the shared store failed; retrying at the next interval", zap.Error(err))
			}
		}
	}
}

// save writes every profile seen since the last successful save, one
// object each, whole. An invocation is folded into its profile up to
// idle_timeout after its last span, so the window reaches back that far
// (plus a tick) to catch what was finalised after the previous save.
func (s *sharedStore) save(ctx context.Context) error {
	now := s.b.now()
	s.b.mu.Lock()
	snaps := s.b.eng.SnapshotSeenSince(s.savedTo)
	s.b.mu.Unlock()
	if len(snaps) == 0 {
		return nil
	}
	sem := make(chan struct{}, s.cfg.Loaders)
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for i := range snaps {
		sem <- struct{}{}
		wg.Add(1)
		go func(snap *profile.Snapshot) {
			defer func() { <-sem; wg.Done() }()
			err := s.write(ctx, snap, now)
			if err != nil {
				s.tel.save("error")
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				return
			}
			s.tel.save("ok")
		}(&snaps[i])
	}
	wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("%d of %d profiles not saved: %w", len(errs), len(snaps), errs[0])
	}
	s.savedTo = now.UnixNano() - int64(s.b.cfg.IdleTimeout) - int64(time.Second)
	return nil
}

func (s *sharedStore) write(ctx context.Context, snap *profile.Snapshot, now time.Time) error {
	data, err := persist.EncodeObject(*snap, s.replica, now)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	return s.bucket.WriteAll(ctx, persist.ObjectKey(s.cfg.Prefix, snap.ID), data, &blob.WriterOptions{ContentType: "application/json", ContentEncoding: "gzip"})
}

// close writes what changed since the last save, then closes the bucket.
func (s *sharedStore) close(ctx context.Context) error {
	err := s.save(ctx)
	return errors.Join(err, s.bucket.Close())
}
