package deploy

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// The chart's glob through the real collector's file_log (make test sets
// SANDWATCH_BIN): the agent's file_log/kernel_audit receiver, as the
// ConfigMap has it and resolved with the pod's env, reads a line from each
// enabled source's file under a directory laid out as the pod's mounts,
// and nothing from a neighbouring file. Two changes to the receiver, both
// outside the glob: start_at beginning (the files exist before it starts)
// and no storage extension.
func TestKernelAuditGlobWithTheCollector(t *testing.T) {
	bin := os.Getenv("SANDWATCH_BIN")
	if bin == "" {
		t.Skip("SANDWATCH_BIN is not set: run through `make test`")
	}
	o := rendered(t, "mode=agent", "agent.kernelAudit.enabled=true", "agent.kernelAudit.sources.falco.enabled=true", "agent.kernelAudit.sources.tetragon.enabled=true")
	w := o.workloads()[0]
	root := t.TempDir()
	lines := map[string]string{
		"auditd/audit.log":      "type=SYSCALL msg=audit(1700000000.000:1): arch=c000003e syscall=257 success=yes exit=3 pid=42",
		"falco/events.json":     `{"rule":"r","output_fields":{"proc.pid":42}}`,
		"tetragon/tetragon.log": `{"process_exec":{"process":{"pid":42}},"node_name":"node-7"}`,
		"falco/other.log":       "NOT-A-SOURCE",
		"auditd/audit.conf":     "NOT-A-SOURCE-EITHER",
	}
	for f, l := range lines {
		p := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(l+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	receiver, _ := dig(o.resolvedConfig(t, w), "receivers", "file_log/kernel_audit").(map[string]any)
	if receiver == nil {
		t.Fatal("the agent config has no file_log/kernel_audit")
	}
	include := receiver["include"].([]any)
	receiver["include"] = []any{strings.Replace(include[0].(string), "/host/kernel-audit", root, 1)}
	receiver["start_at"] = "beginning"
	delete(receiver, "storage")
	cfg, err := yaml.Marshal(map[string]any{
		"receivers": map[string]any{"file_log/kernel_audit": receiver},
		"exporters": map[string]any{"debug": map[string]any{"verbosity": "detailed"}},
		"service": map[string]any{
			"telemetry": map[string]any{"metrics": map[string]any{"level": "none"}},
			"pipelines": map[string]any{"logs": map[string]any{"receivers": []string{"file_log/kernel_audit"}, "exporters": []string{"debug"}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfgFile, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	cmd := exec.Command(bin, "--config", cfgFile)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	want := []string{lines["auditd/audit.log"], lines["falco/events.json"], lines["tetragon/tetragon.log"]}
	deadline := time.Now().Add(30 * time.Second)
	for !containsAll(out.String(), want) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	_ = cmd.Process.Signal(syscall.SIGINT)
	_ = cmd.Wait()
	got := out.String()
	for _, l := range want {
		if !strings.Contains(got, "Body: Str("+l+")") {
			t.Errorf("the collector did not read %q through include %v", l, receiver["include"])
		}
	}
	if strings.Contains(got, "NOT-A-SOURCE") {
		t.Errorf("the collector read a file that is no source through include %v", receiver["include"])
	}
	if t.Failed() {
		t.Logf("collector output:\n%s", got)
	}
}

func containsAll(s string, subs []string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}

// syncBuffer is written by the collector's stdout and stderr copiers and
// read by the test.
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
