package kaudit

import (
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/detect"
)

// FuzzReader: any lines (a sender controls file names, executables, even
// whole lines through log injection) read without panicking, stay within
// the bounds, and what they yield has a target.
func FuzzReader(f *testing.F) {
	f.Add("type=SYSCALL msg=audit(1.5:7): arch=c000003e syscall=257 items=1 pid=4 exe=/x", "type=PATH msg=audit(1.5:7): item=0 name=2F6574632F736861646F77 nametype=NORMAL", "type=EOE msg=audit(1.5:7):")
	f.Add("type=SYSCALL msg=audit(1:9): arch=c000003e syscall=42 pid=4\x1dSYSCALL=connect", "type=SOCKADDR msg=audit(1:9): saddr=0A00005000000000FD00EC2000000000000000000000025400000000\x1dSADDR={ saddr_fam=inet6 laddr=fd00:ec2::254 lport=80 }", "----")
	f.Add("node=a type=URINGOP msg=audit(1:2) uring_op=18 items=1 pid=3", `Dec 2 h audit[3]: PATH item=0 name="x\" nametype=NORMAL`, `type=SYSCALL msg=audit(12/02/2026 05:00:00.5:3) : syscall=openat a0=3`)
	f.Add(`{"output_fields":{"evt.type":"connect","fd.name":"::1:5->::2:80"},"rule":"r"}`, `{"process_kprobe":{"process":{"pid":1},"args":[{"sock_arg":{"daddr":"::1"}}]}}`, `{"_TRANSPORT":"audit","_AUDIT_ID":"1","_SOURCE_REALTIME_TIMESTAMP":"1","MESSAGE":"PATH name=\"/x\""}`)
	f.Fuzz(func(t *testing.T, a, b, c string) {
		p := New(Config{MaxOpen: 4, Wait: time.Second})
		res := pcommon.NewMap()
		check := func(acc detect.Access) {
			if acc.Target == "" {
				t.Fatalf("access without a target from %q / %q / %q", a, b, c)
			}
		}
		for i, l := range []string{a, b, c, a, c, b} {
			rec := plog.NewLogRecord()
			rec.Body().SetStr(l)
			p.Parse(res, rec, int64(i), check)
			if p.Reader().Open() > 4 {
				t.Fatalf("%d events open, bound 4", p.Reader().Open())
			}
		}
		p.Flush(int64(time.Hour), check)
		if p.Reader().Open() != 0 {
			t.Fatal("events left after the wait")
		}
	})
}
