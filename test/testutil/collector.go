// Package testutil starts the real sandwatch binary (built from
// builder-config.yaml by `make build`) for integration and end-to-end tests.
package testutil

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sandwatch/sandwatch/internal/loopback"
)

// Binary returns the path of a binary named by env (SANDWATCH_BIN,
// SANDWATCHCTL_BIN). When the variable is unset the test is skipped (plain
// `go test ./...` without `make`); when it is set but the file is missing
// the test fails, so CI cannot pass by skipping.
func Binary(t testing.TB, env string) string {
	t.Helper()
	p := os.Getenv(env)
	if p == "" {
		t.Skipf("%s is not set: run through `make test`", env)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s=%s: %v (run `make build`)", env, p, err)
	}
	return p
}

// FreePort returns a loopback TCP port that was free a moment ago, below
// the ephemeral range (see internal/loopback).
func FreePort(t testing.TB) int {
	t.Helper()
	p, err := loopback.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// syncBuffer is a bytes.Buffer safe for the process's writer goroutine
// and the test's readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Collector is a running sandwatch process.
type Collector struct {
	t      testing.TB
	cmd    *exec.Cmd
	out    *syncBuffer
	done   chan struct{}
	err    error
	Dir    string
	Config string
}

// Output returns what the collector has written to stdout and stderr.
func (c *Collector) Output() string { return c.out.String() }

// Exited reports whether the process has ended.
func (c *Collector) Exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// StartCollector writes config (YAML) to a temp dir and starts the binary
// on it with env added; the process is stopped when the test ends. The
// working directory is the temp dir, so relative paths in config land
// there.
func StartCollector(t testing.TB, config string, env ...string) *Collector {
	t.Helper()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return StartCollectorFile(t, dir, cfgPath, env...)
}

// StartCollectorFile starts the binary on an existing config file, in dir.
func StartCollectorFile(t testing.TB, dir, cfgPath string, env ...string) *Collector {
	t.Helper()
	return StartCollectorConfigs(t, dir, []string{cfgPath}, env...)
}

// StartCollectorConfigs starts the binary on several configs (files or
// provider URIs such as yaml:...), merged in order as the collector does.
func StartCollectorConfigs(t testing.TB, dir string, configs []string, env ...string) *Collector {
	t.Helper()
	bin := Binary(t, "SANDWATCH_BIN")
	c := &Collector{t: t, out: &syncBuffer{}, done: make(chan struct{}), Dir: dir, Config: configs[0]}
	var args []string
	for _, cfg := range configs {
		args = append(args, "--config", cfg)
	}
	c.cmd = exec.Command(bin, args...)
	c.cmd.Dir = dir
	c.cmd.Env = append(os.Environ(), env...)
	c.cmd.Stdout = c.out
	c.cmd.Stderr = c.out
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		c.Stop()
		if t.Failed() {
			t.Logf("collector output:\n%s", tail(c.Output(), 8000))
		}
	})
	return c
}

// Stop sends SIGTERM and waits for a graceful shutdown (SIGKILL after 20s).
func (c *Collector) Stop() {
	if c.Exited() {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(20 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// Kill sends SIGKILL and waits for the process to end.
func (c *Collector) Kill() {
	if c.Exited() {
		return
	}
	_ = c.cmd.Process.Kill()
	<-c.done
}

// Wait waits for the process to exit by itself and returns its error.
func (c *Collector) Wait(timeout time.Duration) (exited bool, err error) {
	select {
	case <-c.done:
		return true, c.err
	case <-time.After(timeout):
		return false, nil
	}
}

// WaitHealthy polls a health_check endpoint until it answers 200.
func (c *Collector) WaitHealthy(healthURL string, timeout time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if c.Exited() {
			c.t.Fatalf("collector exited during start-up: %v\n%s", c.err, tail(c.Output(), 8000))
		}
		resp, err := http.Get(healthURL)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.t.Fatalf("collector not healthy at %s after %s\n%s", healthURL, timeout, tail(c.Output(), 8000))
}

// WaitOutput waits until the collector's output contains s.
func (c *Collector) WaitOutput(s string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if strings.Contains(c.Output(), s) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// Eventually polls cond until it holds or the timeout passes.
func Eventually(t testing.TB, timeout time.Duration, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("condition not met after %s: %s", timeout, fmt.Sprintf(format, args...))
}

// RepoRoot returns the repository root (for config/ and testdata/).
func RepoRoot(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// RunCtl runs sandwatchctl with args and returns its combined output.
func RunCtl(t testing.TB, ctx context.Context, args ...string) (string, error) {
	t.Helper()
	bin := Binary(t, "SANDWATCHCTL_BIN")
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	return string(out), err
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// Pid returns the collector's process id.
func (c *Collector) Pid() int { return c.cmd.Process.Pid }

// DefaultEnv is the environment that places every listener and path of
// config/default.yaml on free loopback ports and under dir: health_check
// and the collector's own telemetry on the given ports. overrides are
// appended last and win.
func DefaultEnv(t testing.TB, dir string, health, telemetry int, overrides ...string) []string {
	t.Helper()
	env := []string{
		fmt.Sprintf("SANDWATCH_HEALTH_ENDPOINT=127.0.0.1:%d", health),
		fmt.Sprintf("SANDWATCH_TELEMETRY_PORT=%d", telemetry),
		fmt.Sprintf("SANDWATCH_OTLP_GRPC_ENDPOINT=127.0.0.1:%d", FreePort(t)),
		fmt.Sprintf("SANDWATCH_OTLP_HTTP_ENDPOINT=127.0.0.1:%d", FreePort(t)),
		fmt.Sprintf("SANDWATCH_PROMETHEUS_ENDPOINT=127.0.0.1:%d", FreePort(t)),
		fmt.Sprintf("SANDWATCH_QUERY_ENDPOINT=127.0.0.1:%d", FreePort(t)),
		"SANDWATCH_OTLP_SOCKET=" + filepath.Join(dir, "otlp.sock"),
		"SANDWATCH_DATA_DIR=" + filepath.Join(dir, "data"),
	}
	return append(env, overrides...)
}
