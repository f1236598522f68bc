package socketguardextension

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/extensioncapabilities"
	"go.uber.org/zap"
)

// guard makes unix sockets owner-only without a window: Start (extensions
// start before receivers) narrows the process umask so a socket is born
// with the configured mode, Ready (after the receivers started) chmods
// each socket to exactly that mode and restores the umask.
type guard struct {
	cfg       *Config
	mode      uint32
	logger    *zap.Logger
	prevUmask int
	narrowed  bool
}

func newGuard(cfg *Config, logger *zap.Logger) (*guard, error) {
	mode, err := cfg.mode()
	if err != nil {
		return nil, err
	}
	return &guard{cfg: cfg, mode: mode, logger: logger}, nil
}

func (g *guard) Start(context.Context, component.Host) error {
	for _, p := range g.cfg.Paths {
		// The receiver cannot bind in a directory that does not exist;
		// create it private (an existing directory keeps its mode).
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return fmt.Errorf("socket_guard: creating the directory of %s: %w", p, err)
		}
		if g.cfg.RemoveStale {
			if err := removeStaleSocket(p); err != nil {
				return err
			}
		}
	}
	if len(g.cfg.Paths) > 0 {
		g.prevUmask = syscall.Umask(windowUmask(g.mode))
		g.narrowed = true
	}
	return nil
}

// Ready runs once every receiver has started.
func (g *guard) Ready() error {
	g.restoreUmask()
	var errs []error
	for _, p := range g.cfg.Paths {
		if err := os.Chmod(p, os.FileMode(g.mode)); err != nil {
			errs = append(errs, fmt.Errorf("socket_guard: chmod %s: %w", p, err))
		}
	}
	return errors.Join(errs...)
}

func (g *guard) NotReady() error { return nil }

func (g *guard) Shutdown(context.Context) error {
	g.restoreUmask()
	return nil
}

// windowUmask is the process umask between Start and Ready. The umask is
// process-wide: the exporters that start in this window create their
// directories under it too (the forensic WAL, a file:// archive). So it
// clears what mode denies but keeps execute wherever mode grants read: a
// socket is born owner-only (0700 for mode 0600; execute means nothing on
// a socket, and Ready sets the exact mode), and a directory created
// meanwhile stays traversable by its owner. Clearing execute too made
// those directories 0600, unusable by a collector that is not root.
func windowUmask(mode uint32) int {
	keep := mode | (mode&0o444)>>2
	return int(0o777 &^ keep)
}

func (g *guard) restoreUmask() {
	if g.narrowed {
		syscall.Umask(g.prevUmask)
		g.narrowed = false
	}
}

// removeStaleSocket deletes p when it is a socket that nobody accepts on,
// as after a SIGKILL; anything else at p is left alone.
func removeStaleSocket(p string) error {
	fi, err := os.Lstat(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("socket_guard: %w", err)
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("socket_guard: %s exists and is not a socket; refusing to remove it", p)
	}
	conn, err := net.DialTimeout("unix", p, 200*time.Millisecond)
	if err == nil {
		conn.Close()
		return fmt.Errorf("socket_guard: %s is in use by another process", p)
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("socket_guard: removing stale socket: %w", err)
	}
	return nil
}

var _ extensioncapabilities.PipelineWatcher = (*guard)(nil)
