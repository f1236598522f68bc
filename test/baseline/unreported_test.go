package baseline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/sandwatch/sandwatch/internal/otlpsend"
	"github.com/sandwatch/sandwatch/test/testutil"
)

// The auditd parser config documented in the README (baseline,
// unreported_access): file_log reads audit.log, a key_value_parser turns
// each record into attributes, the resource names the host.
const auditConfig = `
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:%[1]d
  filelog/auditd:
    include: [%[4]s]
    start_at: beginning
    poll_interval: 100ms
    resource:
      host.name: sandbox-7
    operators:
      - type: key_value_parser
        on_error: send_quiet
  filelog/falco:
    include: [%[5]s]
    start_at: beginning
    poll_interval: 100ms
    operators:
      - type: json_parser
connectors:
  baseline:
    idle_timeout: 1s
    detectors:
      unreported_access:
        delay: 1s
exporters:
  otlp_http/anomalies:
    endpoint: %[2]s
    compression: none
    retry_on_failure:
      enabled: false
extensions:
  health_check:
    endpoint: 127.0.0.1:%[3]d
service:
  extensions: [health_check]
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [baseline]
    logs:
      receivers: [otlp, filelog/auditd, filelog/falco]
      exporters: [baseline]
    logs/anomaly:
      receivers: [baseline]
      exporters: [otlp_http/anomalies]
`

// sandboxInvocation is one invocation of a Goose-style extension on
// sandbox-7, process 4242, reading path, at start.
func sandboxInvocation(tid pcommon.TraceID, start time.Time, path string) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "goose")
	rs.Resource().Attributes().PutStr("host.name", "sandbox-7")
	rs.Resource().Attributes().PutInt("process.pid", 4242)
	ss := rs.ScopeSpans().AppendEmpty().Spans()
	root := ss.AppendEmpty()
	root.SetTraceID(tid)
	root.SetSpanID(pcommon.SpanID{1})
	root.SetName("extension.invoke")
	root.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
	root.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(200 * time.Millisecond)))
	root.Attributes().PutStr("extension.id", "notes-001")
	rd := ss.AppendEmpty()
	rd.SetTraceID(tid)
	rd.SetSpanID(pcommon.SpanID{2})
	rd.SetParentSpanID(pcommon.SpanID{1})
	rd.SetName("extension.notes-001.FileReadBlock")
	rd.SetStartTimestamp(pcommon.NewTimestampFromTime(start.Add(50 * time.Millisecond)))
	rd.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(60 * time.Millisecond)))
	_ = rd.Attributes().FromRaw(map[string]any{"extension.id": "notes-001", "block.type": "FileReadBlock", "fs.operation": "read", "fs.path": path})
	return td
}

// auditOpen is the auditd record of an openat of path by pid 4242 at t.
func auditOpen(t time.Time, serial int, path string) string {
	msg := fmt.Sprintf("msg=audit(%d.%03d:%d):", t.Unix(), t.Nanosecond()/1e6, serial)
	return fmt.Sprintf(`type=SYSCALL %s arch=c000003e syscall=257 success=yes exit=23 a0=ffffff9c a1=7f3a2c0014a0 a2=80000 a3=0 items=1 ppid=1 pid=4242 auid=4294967295 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=(none) ses=4294967295 comm="node" exe="/usr/bin/node" subj=unconfined key="sandwatch"
type=CWD %[1]s cwd="/app"
type=PATH %[1]s item=0 name="%[2]s" inode=1835131 dev=08:01 mode=0100640 ouid=0 ogid=42 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0
type=PROCTITLE %[1]s proctitle=6E6F6465002F6170702F686F73742E6A73
`, msg, path)
}

// The kernel's record of a sandbox host process against its spans: an
// /etc/shadow open that a span reports is not flagged; one that no span
// of the invocation reports is, as unreported_access on that trace; so is
// a connect to the cloud metadata service that Falco saw.
func TestUnreportedAccessEndToEnd(t *testing.T) {
	s := newSink(t)
	dir := t.TempDir()
	auditLog, falcoLog := filepath.Join(dir, "audit.log"), filepath.Join(dir, "falco.json")
	require.NoError(t, os.WriteFile(auditLog, nil, 0o600))
	require.NoError(t, os.WriteFile(falcoLog, nil, 0o600))
	grpcPort, healthPort := testutil.FreePort(t), testutil.FreePort(t)
	c := testutil.StartCollector(t, fmt.Sprintf(auditConfig, grpcPort, s.url, healthPort, auditLog, falcoLog))
	c.WaitHealthy(fmt.Sprintf("http://127.0.0.1:%d/", healthPort), 30*time.Second)

	snd, err := otlpsend.New("grpc", fmt.Sprintf("127.0.0.1:%d", grpcPort))
	require.NoError(t, err)
	defer snd.Close()
	send := func(td ptrace.Traces) {
		body, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err = snd.Send(ctx, otlpsend.Traces, body)
		require.NoError(t, err)
	}
	t0 := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	reported, hidden, metadata := pcommon.TraceID{0xa, 1}, pcommon.TraceID{0xb, 2}, pcommon.TraceID{0xc, 3}
	send(sandboxInvocation(reported, t0, "/etc/shadow"))
	send(sandboxInvocation(hidden, t0.Add(10*time.Second), "/app/db.sqlite"))
	send(sandboxInvocation(metadata, t0.Add(20*time.Second), "/app/db.sqlite"))

	var lines strings.Builder
	lines.WriteString(auditOpen(t0.Add(55*time.Millisecond), 4711, "/etc/shadow"))                   // reported by its span
	lines.WriteString(auditOpen(t0.Add(10*time.Second+55*time.Millisecond), 4712, "/app/db.sqlite")) // reported
	lines.WriteString(auditOpen(t0.Add(10*time.Second+80*time.Millisecond), 4713, "/etc/shadow"))    // no span reports it
	f, err := os.OpenFile(auditLog, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(lines.String())
	require.NoError(t, err)
	require.NoError(t, f.Close())
	// Falco saw the third invocation connect to the cloud metadata service.
	falco := fmt.Sprintf(`{"hostname":"sandbox-7","output":"Outbound connection to the cloud metadata service","priority":"Notice","rule":"Contact cloud metadata service from container","source":"syscall","time":%q,"output_fields":{"evt.res":"EINPROGRESS","evt.type":"connect","fd.name":"10.0.4.7:51022->169.254.169.254:80","fd.sip":"169.254.169.254","proc.exepath":"/usr/bin/node","proc.name":"node","proc.pid":4242,"proc.ppid":1}}`+"\n",
		t0.Add(20*time.Second+70*time.Millisecond).UTC().Format(time.RFC3339Nano))
	require.NoError(t, os.WriteFile(falcoLog, []byte(falco), 0o600))

	hex := func(id pcommon.TraceID) string { return fmt.Sprintf("%x", id[:]) }
	flagged := func(trace pcommon.TraceID) bool {
		for _, a := range s.all() {
			if a.typ == "unreported_access" && a.trace == hex(trace) {
				return true
			}
		}
		return false
	}
	testutil.Eventually(t, 20*time.Second, func() bool { return flagged(hidden) },
		"the unreported /etc/shadow open (auditd) was not flagged: %v\n%s", s.all(), c.Output())
	testutil.Eventually(t, 10*time.Second, func() bool { return flagged(metadata) },
		"the unreported metadata connect (Falco) was not flagged: %v\n%s", s.all(), c.Output())
	time.Sleep(1500 * time.Millisecond) // a wrong record on the reported trace would have arrived by now
	var un []anomaly
	for _, a := range s.all() {
		if a.typ == "unreported_access" {
			un = append(un, a)
		}
	}
	require.Len(t, un, 2, "one per unreported access; the reported open is not flagged: %v", un)
	for _, a := range un {
		require.Equal(t, "notes-001", a.ext)
		require.NotEqual(t, hex(reported), a.trace)
	}
	t.Logf("anomalies: %v", s.all())
}
