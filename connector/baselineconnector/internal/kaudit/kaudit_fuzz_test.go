package kaudit

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/detect"
)

// FuzzAuditd: any pair of audit lines (a sender controls file names,
// executables, even whole lines through log injection) parses without
// panicking, and what it yields has a target and a process.
func FuzzAuditd(f *testing.F) {
	f.Add("type=SYSCALL msg=audit(1.5:7): arch=c000003e syscall=257 pid=4 exe=/x", "type=PATH msg=audit(1.5:7): name=2F6574632F736861646F77 nametype=NORMAL")
	f.Add("type=SYSCALL msg=audit(1:9): arch=c000003e syscall=42 pid=4", "type=SOCKADDR msg=audit(1:9): saddr=0A00005000000000FD00EC2000000000000000000000025400000000")
	f.Add("type=SYSCALL msg=audit(.:): syscall=2", "type=CWD msg=audit(.:): cwd=zz")
	f.Fuzz(func(t *testing.T, a, b string) {
		p := New()
		res := pcommon.NewMap()
		for _, l := range []string{a, b} {
			p.Parse(res, kv(l), func(acc detect.Access) {
				if acc.Target == "" {
					t.Fatalf("access without a target from %q / %q", a, b)
				}
			})
		}
	})
}
