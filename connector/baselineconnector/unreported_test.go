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
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
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

// A stock Falco rule's alerts carry no proc.pid: the one in the sandbox's
// container is tied to its invocation by container.id, and says so; one
// from another host is counted and its rule logged once. Kernel records
// that are no open or connect are counted by type, never read as sandbox
// events.
func TestUnreportedPidlessFalcoThroughConnector(t *testing.T) {
	r := newRig(t, func(c *Config) { c.Detectors.UnreportedAccess.Delay = 0 })
	core, logs := observer.New(zap.WarnLevel)
	r.b.set.Logger = zap.New(core)
	td := goose("ext", 3, map[string]any{"block.type": "FileReadBlock", "fs.operation": "read", "fs.path": "/app/db.sqlite"})
	res := td.ResourceSpans().At(0).Resource().Attributes()
	res.PutStr("host.name", "sandbox-7")
	res.PutInt("process.pid", 4242)
	res.PutStr("container.id", "84c0b936c919e1f0a8d6b7c3f1e2d4a5b6c7d8e9f0a1b2c3d4e5f60718293a4b")
	at := time.Unix(0, int64(td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).StartTimestamp())).UTC().Format(time.RFC3339Nano)
	alert := func(host, container string) string {
		return `{"hostname":"` + host + `","rule":"Read sensitive file untrusted","time":"` + at + `","output_fields":{"container.id":"` + container + `","evt.type":"openat","fd.name":"/etc/shadow","proc.exepath":"/bin/event-generator"}}`
	}
	r.feed(td, auditLogs("sandbox-7", alert("node-3", "84c0b936c919"), alert("build-1", "deadbeef0000"), alert("build-1", "deadbeef0000"),
		`type=USER_LOGIN msg=audit(1.000:9): pid=900 uid=0 auid=1000 ses=3 msg='op=login id=1000 exe="/usr/sbin/sshd" res=success'`))
	r.b.tick(context.Background(), false)
	un := ofType(r.records(), "unreported_access")
	require.Len(t, un, 1, "%v", r.records())
	assert.Equal(t, [16]byte(pcommon.TraceID{3, 1}), un[0].TraceID)
	attrs := r.sink.AllLogs()[len(r.sink.AllLogs())-1].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes()
	v, _ := attrs.Get(AttrAttribution)
	assert.Equal(t, "container", v.Str())
	assert.Zero(t, r.b.eng.C.Unattributed, "kernel records are not sandbox events")

	assert.Equal(t, 1, logs.FilterMessageSnippet("carry no proc.pid").Len(), "logged once per rule")
	dropped := r.b.auditDropped()
	assert.EqualValues(t, 2, dropped["audit_uncorrelated"])
	md := r.b.buildMetrics(r.clock)
	ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	found := false
	for i := 0; i < ms.Len(); i++ {
		if ms.At(i).Name() == "sandbox.baseline.audit.ignored" {
			dp := ms.At(i).Sum().DataPoints().At(0)
			typ, _ := dp.Attributes().Get("type")
			assert.Equal(t, "USER_LOGIN", typ.Str())
			assert.EqualValues(t, 1, dp.IntValue())
			found = true
		}
	}
	assert.True(t, found, "sandbox.baseline.audit.ignored")
}

// The configuration before this reader split auditd lines with a
// key_value_parser: those records cannot be read; they are counted and a
// warning says what to change, once.
func TestKeyValueParsedAuditdWarns(t *testing.T) {
	r := newRig(t, nil)
	core, logs := observer.New(zap.WarnLevel)
	r.b.set.Logger = zap.New(core)
	for i := 0; i < 3; i++ {
		ld := plog.NewLogs()
		a := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Attributes()
		a.PutStr("type", "SYSCALL")
		a.PutStr("msg", "audit(1.000:1):")
		r.feed(ptrace.NewTraces(), ld)
	}
	assert.Equal(t, 1, logs.FilterMessageSnippet("key_value_parser").Len())
	assert.EqualValues(t, 3, r.b.auditDropped()["audit_key_value_parsed"])
	assert.Zero(t, r.b.eng.C.Unattributed)
}

// Two invocations of one process overlap; Falco's thread.tid (from the
// append_output snippet) and the spans' thread.id name the one that did it.
func TestUnreportedThreadThroughConnector(t *testing.T) {
	r := newRig(t, func(c *Config) { c.Detectors.UnreportedAccess.Delay = 0 })
	inv := func(tid byte, thread int64) ptrace.Traces {
		td := goose("ext", tid, map[string]any{"block.type": "FileReadBlock", "fs.operation": "read", "fs.path": "/app/db.sqlite", "thread.id": thread})
		res := td.ResourceSpans().At(0).Resource().Attributes()
		res.PutStr("host.name", "sandbox-7")
		res.PutInt("process.pid", 4242)
		return td
	}
	a, b := inv(5, 11), inv(6, 12)
	spans := b.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	for i := 0; i < spans.Len(); i++ { // b starts later: without the thread, b would be named
		s := spans.At(i)
		s.SetStartTimestamp(s.StartTimestamp() + pcommon.Timestamp(time.Millisecond))
	}
	r.feed(a, plog.NewLogs())
	start := a.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).StartTimestamp()
	at := time.Unix(0, int64(start)).UTC().Format(time.RFC3339Nano)
	r.feed(b, auditLogs("sandbox-7", `{"hostname":"sandbox-7","rule":"Read sensitive file untrusted","time":"`+at+`","output_fields":{"evt.type":"openat","fd.name":"/etc/shadow","proc.pid":4242,"thread.tid":11,"proc.exepath":"/usr/bin/node"}}`))
	r.b.tick(context.Background(), false)
	un := ofType(r.records(), "unreported_access")
	require.Len(t, un, 1, "%v", r.records())
	assert.Equal(t, [16]byte(pcommon.TraceID{5, 1}), un[0].TraceID, "the invocation that ran on thread 11")
}
