package identityprocessor

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.uber.org/zap"

	"github.com/sandwatch/sandwatch/processor/identityprocessor/internal/binding"
)

// start loads the bindings file (a missing or invalid file fails start-up
// with the reason) and re-reads it every reload_interval: a changed, valid
// file is swapped in between two requests; an invalid one is logged and
// counted, and the last good bindings stay.
func (p *identity) start(_ context.Context, _ component.Host) error {
	if p.cfg.BindingsFile == "" {
		return nil
	}
	f := &binding.File{Path: p.cfg.BindingsFile, Fwd: p.cfg.TrustedForwarders}
	s, _, err := f.Load()
	if err != nil {
		return err
	}
	p.bindings.Store(s)
	p.logger.Info("identity bindings loaded", zap.String("file", f.Path), zap.Int("identities", s.Len()))
	if p.cfg.ReloadInterval <= 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.stop = cancel
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(p.cfg.ReloadInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				p.reload(ctx, f)
			}
		}
	}()
	return nil
}

func (p *identity) reload(ctx context.Context, f *binding.File) {
	s, changed, err := f.Load()
	switch {
	case err != nil && changed:
		p.tel.reloaded(ctx, false)
		p.logger.Error("identity bindings not reloaded; the previous bindings stay", zap.String("file", f.Path), zap.Error(err))
	case err != nil:
		// Unreadable (e.g. mid-rotation of a mounted Secret): retried at
		// the next tick, the previous bindings stay.
		p.logger.Warn("identity bindings file unreadable; the previous bindings stay", zap.String("file", f.Path), zap.Error(err))
	case changed:
		p.bindings.Store(s)
		p.tel.reloaded(ctx, true)
		p.logger.Info("identity bindings reloaded", zap.String("file", f.Path), zap.Int("identities", s.Len()))
	}
}

func (p *identity) shutdown(context.Context) error {
	if p.stop != nil {
		p.stop()
		p.wg.Wait()
	}
	return nil
}
