package testutil

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Tool returns the path of a test dependency that `make deps` installs
// under SANDWATCH_TOOLS (skipping the test when the variable is unset, as
// Binary does).
func Tool(t testing.TB, name string) string {
	t.Helper()
	tools := os.Getenv("SANDWATCH_TOOLS")
	if tools == "" {
		t.Skip("SANDWATCH_TOOLS is not set: run through `make test`")
	}
	bin := filepath.Join(tools, name)
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s: %v (make deps)", bin, err)
	}
	return bin
}

// Process is a storage emulator (versitygw, fake-gcs-server, Azurite) on a
// loopback port: it can be stopped and restarted on the same port and
// directory, keeping its data.
type Process struct {
	// Args renders the command line; it may read Port and Dir.
	Args func() []string
	Dir  string
	Port int

	t    testing.TB
	name string
	bin  string
	cmd  *exec.Cmd
	done chan struct{}
}

// NewProcess prepares (does not start) bin with a fresh directory and port.
func NewProcess(t testing.TB, name, bin string) *Process {
	return &Process{t: t, name: name, bin: bin, Dir: t.TempDir(), Port: FreePort(t)}
}

// Endpoint is the process's HTTP address.
func (p *Process) Endpoint() string { return fmt.Sprintf("http://127.0.0.1:%d", p.Port) }

// Start runs the process and waits until it listens.
func (p *Process) Start() {
	p.t.Helper()
	p.cmd = exec.Command(p.bin, p.Args()...)
	p.cmd.Stdout, p.cmd.Stderr = os.Stderr, os.Stderr
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.done = make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", p.Port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.t.Fatalf("%s did not listen on %d", p.name, p.Port)
}

// Stop ends the process (SIGTERM, then SIGKILL).
func (p *Process) Stop() {
	if p.cmd == nil {
		return
	}
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	p.cmd = nil
}
