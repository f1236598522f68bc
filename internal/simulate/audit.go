package simulate

import (
	"fmt"
	"math/rand/v2"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// The kernel's record of a sandbox host, for the baseline's
// unreported_access cross-check: a sandbox host process (host.name,
// process.pid on its spans' resource) and the auditd records of what it
// opened, as the file_log receiver passes them with no operators (the
// raw line as the body, host.name on the resource), each event closed by
// its EOE as auditd's dispatcher writes it.

// Process is where an extension runs: extension i on sandbox-(i mod 8),
// process 4000+i.
func Process(ext int) (host string, pid int64) {
	return fmt.Sprintf("sandbox-%d", ext%8), int64(4000 + ext)
}

// AttachProcess sets the semantic-convention process attributes on every
// resource of td.
func AttachProcess(td ptrace.Traces, host string, pid int64) {
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		a := td.ResourceSpans().At(i).Resource().Attributes()
		a.PutStr("host.name", host)
		a.PutInt("process.pid", pid)
	}
}

// hostBackground is what a sandbox host process opens on its own, steadily,
// between and during invocations: none of it is an extension's doing.
var hostBackground = []string{"/etc/localtime", "/proc/self/status", "/etc/resolv.conf", "/app/node_modules/undici/lib/fetch.js",
	"/etc/ssl/certs/ca-certificates.crt"}

// Audit returns the auditd records of an invocation td of a process:
// an openat of every file its spans report reading (at the span's start),
// some of the host process's background opens during the invocation and
// a few seconds before it, and an openat of each hidden path that no span
// reports (an attack; Injection.Hidden).
func (g *Generator) Audit(td ptrace.Traces, host string, pid int64, hidden ...string) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("host.name", host)
	recs := rl.ScopeLogs().AppendEmpty().LogRecords()
	g.mu.Lock()
	seed := g.rng.Uint64()
	g.mu.Unlock()
	r := rand.New(rand.NewPCG(seed, seed>>1))
	serial := r.Uint64N(1 << 40)
	open := func(t time.Time, path string) {
		serial++
		hdr := fmt.Sprintf("msg=audit(%d.%03d:%d):", t.Unix(), t.Nanosecond()/1e6, serial)
		for _, line := range []string{
			fmt.Sprintf(`type=SYSCALL %s arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c items=1 ppid=1 pid=%d comm="node" exe="/usr/bin/node" key="sandwatch"`, hdr, pid),
			fmt.Sprintf(`type=PATH %s item=0 name=%s nametype=NORMAL`, hdr, auditName(path)),
			"type=EOE " + hdr,
		} {
			recs.AppendEmpty().Body().SetStr(line)
		}
	}
	var start time.Time
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		ss := td.ResourceSpans().At(i).ScopeSpans()
		for j := 0; j < ss.Len(); j++ {
			spans := ss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				s := spans.At(k)
				t := s.StartTimestamp().AsTime()
				if s.ParentSpanID().IsEmpty() && start.IsZero() {
					start = t
				}
				if s.Status().Code() == ptrace.StatusCodeError {
					continue
				}
				for _, key := range []string{"fs.path", "file.path"} {
					if v, ok := s.Attributes().Get(key); ok {
						open(t, v.Str())
					}
				}
			}
		}
	}
	if start.IsZero() {
		return ld
	}
	for _, p := range hostBackground {
		if r.IntN(3) == 0 {
			open(start.Add(-time.Duration(3+r.IntN(5))*time.Second), p) // between invocations
		}
		if r.IntN(5) == 0 {
			open(start.Add(time.Duration(r.IntN(3))*time.Millisecond), p) // during this one
		}
	}
	for _, p := range hidden {
		open(start.Add(time.Millisecond), p)
	}
	return ld
}

// auditScenarios need the kernel's record (Generator.Audit with the
// injection's Hidden paths): `sandwatchctl simulate` sends OTLP only, so
// Scenarios() leaves them out.
var auditScenarios = map[string]scenario{
	// A benign-looking invocation whose process opens a credential file
	// that no span reports: a compromised SDK hiding its own reads.
	"unreported-access": {"unreported_access", func(b *builder, inj *Injection) {
		b.benign(b.selects())
		inj.Hidden = []string{[]string{"/etc/shadow", "/home/agent/.aws/credentials", "/root/.ssh/id_ed25519"}[b.intn(3)]}
	}},
}

// AuditScenarios returns the scenarios that need Generator.Audit.
func AuditScenarios() []string { return []string{"unreported-access"} }

// auditName writes a name as the kernel does: in double quotes when every
// byte is printable and not a space or a quote, else in upper-case hex.
func auditName(p string) string {
	for i := 0; i < len(p); i++ {
		if c := p[i]; c <= ' ' || c > '~' || c == '"' {
			return fmt.Sprintf("%X", p)
		}
	}
	return `"` + p + `"`
}
