package baselineconnector

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// auditLogs are auditd lines as the documented file_log receiver (no
// operators) passes them: the raw line as the body, host.name on the
// resource.
func auditLogs(host string, lines ...string) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("host.name", host)
	recs := rl.ScopeLogs().AppendEmpty().LogRecords()
	for _, l := range lines {
		recs.AppendEmpty().Body().SetStr(l)
	}
	return ld
}

// Spans of a sandbox host name their process; the kernel's record of the
// same process is checked against them.
func TestUnreportedAccessThroughConnector(t *testing.T) {
	r := newRig(t, nil)
	invocation := func(tid byte, path string, shift time.Duration) ptrace.Traces {
		td := goose("ext", tid, map[string]any{"block.type": "FileReadBlock", "fs.operation": "read", "fs.path": path})
		spans := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
		for i := 0; i < spans.Len(); i++ {
			s := spans.At(i)
			s.SetStartTimestamp(s.StartTimestamp() + pcommon.Timestamp(shift))
			s.SetEndTimestamp(s.EndTimestamp() + pcommon.Timestamp(shift))
		}
		res := td.ResourceSpans().At(0).Resource().Attributes()
		res.PutStr("host.name", "sandbox-7")
		res.PutInt("process.pid", 4242)
		return td
	}
	open := func(at, serial, path string) []string {
		return []string{
			"type=SYSCALL msg=audit(" + at + ":" + serial + "): arch=c000003e syscall=257 success=yes exit=3 ppid=1 pid=4242 uid=1000 comm=node exe=/usr/bin/node",
			"type=PATH msg=audit(" + at + ":" + serial + "): item=0 name=\"" + path + "\" nametype=NORMAL",
		}
	}
	// Trace 1 reports its /etc/shadow read; the kernel saw it too.
	r.feed(invocation(1, "/etc/shadow", 0), auditLogs("sandbox-7", open("1.001", "10", "/etc/shadow")...))
	r.advance(11 * time.Second) // the default delay is 10s
	r.b.tick(context.Background(), false)
	assert.NotContains(t, types(r.records()), "unreported_access")
	r.reset()
	// Trace 2 reports /app/db.sqlite; the kernel saw /etc/shadow as well.
	r.feed(invocation(2, "/app/db.sqlite", 10*time.Second), auditLogs("sandbox-7", append(open("11.001", "11", "/app/db.sqlite"), open("11.001", "12", "/etc/shadow")...)...))
	r.b.tick(context.Background(), false)
	assert.NotContains(t, types(r.records()), "unreported_access", "judged only after the delay")
	r.advance(11 * time.Second) // the default delay is 10s
	r.b.tick(context.Background(), false)
	un := ofType(r.records(), "unreported_access")
	require.Len(t, un, 1, "%v", r.records())
	assert.Equal(t, "/etc/shadow", un[0].Target)
	assert.Equal(t, "ext", un[0].Ext)
	assert.Equal(t, [16]byte(pcommon.TraceID{2, 1}), un[0].TraceID)
	assert.Equal(t, "critical", un[0].Severity)
	assert.Zero(t, r.b.eng.C.Unattributed, "audit records are not sandbox events")
}
