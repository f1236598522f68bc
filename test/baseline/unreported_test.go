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

// The kernel-audit config documented in the README (baseline, "Sources
// and their config"): one file_log receiver with no operators reads the
// auditd log, Falco's JSON file and Tetragon's export, in a logs pipeline
// that feeds only the baseline connector.
const auditConfig = `
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:%[1]d
  file_log/kernel_audit:
    include: [%[4]s, %[5]s, %[6]s]
    start_at: beginning
    poll_interval: 100ms
    resource:
      host.name: sandbox-7
connectors:
  baseline:
    idle_timeout: 1s
    dedup_interval: 0s # the Falco and auditd records both flag /etc/shadow of notes-001
    detectors:
      unreported_access:
        delay: 1s
        event_wait: 500ms
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
      receivers: [otlp]
      exporters: [baseline]
    logs/kernel_audit:
      receivers: [file_log/kernel_audit]
      exporters: [baseline]
    logs/anomaly:
      receivers: [baseline]
      exporters: [otlp_http/anomalies]
`

// sandboxInvocation is one invocation of a Goose-style extension on
// sandbox-7, process 4242 in container c0ffee..., reading path, at start.
func sandboxInvocation(tid pcommon.TraceID, start time.Time, path string) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "goose")
	rs.Resource().Attributes().PutStr("host.name", "sandbox-7")
	rs.Resource().Attributes().PutInt("process.pid", 4242)
	rs.Resource().Attributes().PutStr("container.id", "c0ffee0000a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b")
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

func auditHeader(t time.Time, serial int) string {
	return fmt.Sprintf("msg=audit(%d.%03d:%d):", t.Unix(), t.Nanosecond()/1e6, serial)
}

// enrichedOpen is the enriched auditd record (audit >= 3.0, RHEL 9's
// default) of an openat of path by pid 4242 at t: each record ends in
// 0x1D and the interpreted fields. No EOE: auditd's log file has none.
func enrichedOpen(t time.Time, serial int, path string) string {
	h := auditHeader(t, serial)
	return fmt.Sprintf(`type=SYSCALL %[1]s arch=c000003e syscall=257 success=yes exit=23 a0=ffffff9c a1=7f3a2c0014a0 a2=80000 a3=0 items=1 ppid=1 pid=4242 auid=4294967295 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=(none) ses=4294967295 comm="node" exe="/usr/bin/node" subj=unconfined key="sandwatch"`+"\x1d"+`ARCH=x86_64 SYSCALL=openat AUID="unset" UID="agent" GID="agent" EUID="agent" SUID="agent" FSUID="agent" EGID="agent" SGID="agent" FSGID="agent"
type=CWD %[1]s cwd="/app"
type=PATH %[1]s item=0 name="%[2]s" inode=1835131 dev=08:01 mode=0100640 ouid=0 ogid=42 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0`+"\x1d"+`OUID="root" OGID="shadow"
type=PROCTITLE %[1]s proctitle=6E6F6465002F6170702F686F73742E6A73
`, h, path)
}

// enrichedConnect is the enriched record of a connect by pid 4242 to
// 169.254.169.254:80 (the SOCKADDR whose "}" a key_value_parser drops).
func enrichedConnect(t time.Time, serial int) string {
	h := auditHeader(t, serial)
	return fmt.Sprintf(`type=SYSCALL %[1]s arch=c000003e syscall=42 success=no exit=-115 a0=17 a1=7ffd5b0c a2=10 a3=0 items=0 ppid=1 pid=4242 auid=4294967295 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=(none) ses=4294967295 comm="node" exe="/usr/bin/node" subj=unconfined key="sandwatch-net"`+"\x1d"+`ARCH=x86_64 SYSCALL=connect AUID="unset" UID="agent" GID="agent" EUID="agent" SUID="agent" FSUID="agent" EGID="agent" SGID="agent" FSGID="agent"
type=SOCKADDR %[1]s saddr=02000050A9FEA9FE0000000000000000`+"\x1d"+`SADDR={ saddr_fam=inet laddr=169.254.169.254 lport=80 }
type=PROCTITLE %[1]s proctitle=6E6F6465002F6170702F686F73742E6A73
`, h)
}

// falcoAlert is the alert of Falco's stock rule "Read sensitive file
// untrusted" with the fields the README's append_output adds (proc.pid,
// proc.ppid, thread.tid, fd.sip, container.id).
func falcoAlert(t time.Time, path string) string {
	return fmt.Sprintf(`{"hostname":"sandbox-7","output":"%[1]s: Warning Sensitive file opened for reading by non-trusted program (file=%[2]s gparent=systemd evt_type=openat user=agent user_uid=1000 user_loginuid=-1 process=node proc_exepath=/usr/bin/node parent=systemd command=node /app/host.js terminal=0 container_id=c0ffee0000a1 container_name=sandbox)","priority":"Warning","rule":"Read sensitive file untrusted","source":"syscall","tags":["T1555","container","filesystem","host","maturity_stable","mitre_credential_access"],"time":"%[1]s","output_fields":{"container.id":"c0ffee0000a1","container.name":"sandbox","evt.time":%[3]d,"evt.type":"openat","fd.name":"%[2]s","proc.cmdline":"node /app/host.js","proc.exepath":"/usr/bin/node","proc.name":"node","proc.pname":"systemd","proc.tty":0,"user.loginuid":-1,"user.name":"agent","user.uid":1000,"proc.pid":4242,"proc.ppid":1,"thread.tid":4250,"fd.sip":null}}`+"\n",
		t.UTC().Format(time.RFC3339Nano), path, t.UnixNano())
}

// tetragonOpen is Tetragon's export of a security_file_open kprobe (the
// README's TracingPolicy) by pid 4242.
func tetragonOpen(t time.Time, path string) string {
	return fmt.Sprintf(`{"process_kprobe":{"process":{"exec_id":"c2FuZGJveC03OjQyNDI=","pid":4242,"uid":1000,"cwd":"/app","binary":"/usr/bin/node","arguments":"/app/host.js","flags":"execve clone","start_time":"2026-12-02T05:00:00Z","auid":4294967295,"docker":"c0ffee0000a1b2c3d4e5f6071","parent_exec_id":"c2FuZGJveC03OjE=","tid":4251},"parent":{"exec_id":"c2FuZGJveC03OjE=","pid":1,"binary":"/sbin/init"},"function_name":"security_file_open","args":[{"file_arg":{"path":"%[1]s","permission":"-rw-------"}}],"return":{"int_arg":0},"action":"KPROBE_ACTION_POST","policy_name":"sandwatch-kernel-audit","return_action":"KPROBE_ACTION_POST"},"node_name":"sandbox-7","time":"%[2]s"}`+"\n",
		path, t.UTC().Format(time.RFC3339Nano))
}

func appendFile(t *testing.T, name, s string) {
	f, err := os.OpenFile(name, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(s)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

// The kernel's record of a sandbox host process against its spans, in
// the formats real hosts write: an enriched auditd log, a stock Falco
// rule's alert with the appended fields, and Tetragon's export. Each
// access no span reports is flagged as unreported_access on its own
// invocation's trace; the controls (an /etc/shadow open a span reports,
// opens of the file the invocation reports, in each source) are not.
func TestUnreportedAccessEndToEnd(t *testing.T) {
	s := newSink(t)
	dir := t.TempDir()
	auditLog, falcoLog, tetragonLog := filepath.Join(dir, "audit.log"), filepath.Join(dir, "falco.json"), filepath.Join(dir, "tetragon.log")
	for _, f := range []string{auditLog, falcoLog, tetragonLog} {
		require.NoError(t, os.WriteFile(f, nil, 0o600))
	}
	grpcPort, healthPort := testutil.FreePort(t), testutil.FreePort(t)
	c := testutil.StartCollector(t, fmt.Sprintf(auditConfig, grpcPort, s.url, healthPort, auditLog, falcoLog, tetragonLog))
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
	reported, hidden, metadata, falco, tetragon := pcommon.TraceID{0xa, 1}, pcommon.TraceID{0xb, 2}, pcommon.TraceID{0xc, 3}, pcommon.TraceID{0xd, 4}, pcommon.TraceID{0xe, 5}
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * 10 * time.Second) }
	send(sandboxInvocation(reported, at(0), "/etc/shadow"))
	send(sandboxInvocation(hidden, at(1), "/app/db.sqlite"))
	send(sandboxInvocation(metadata, at(2), "/app/db.sqlite"))
	send(sandboxInvocation(falco, at(3), "/app/db.sqlite"))
	send(sandboxInvocation(tetragon, at(4), "/app/db.sqlite"))

	ms := time.Millisecond
	var audit strings.Builder
	audit.WriteString(enrichedOpen(at(0).Add(55*ms), 4711, "/etc/shadow"))    // reported by its span
	audit.WriteString(enrichedOpen(at(1).Add(55*ms), 4712, "/app/db.sqlite")) // reported
	audit.WriteString(enrichedOpen(at(1).Add(80*ms), 4713, "/etc/shadow"))    // no span reports it
	audit.WriteString("type=USER_LOGIN " + auditHeader(at(1).Add(90*ms), 4714) + ` pid=900 uid=0 auid=1000 ses=3 msg='op=login id=1000 exe="/usr/sbin/sshd" hostname=10.0.0.9 addr=10.0.0.9 terminal=ssh res=success'` + "\x1d" + `UID="root" AUID="agent" ID="agent"` + "\n")
	audit.WriteString(enrichedConnect(at(2).Add(70*ms), 4715)) // the metadata service, unreported
	appendFile(t, auditLog, audit.String())
	appendFile(t, falcoLog, falcoAlert(at(3).Add(55*ms), "/app/db.sqlite")+falcoAlert(at(3).Add(70*ms), "/etc/shadow"))
	appendFile(t, tetragonLog, tetragonOpen(at(4).Add(55*ms), "/app/db.sqlite")+tetragonOpen(at(4).Add(70*ms), "/var/run/secrets/kubernetes.io/serviceaccount/token"))

	hex := func(id pcommon.TraceID) string { return fmt.Sprintf("%x", id[:]) }
	flagged := func(trace pcommon.TraceID) bool {
		for _, a := range s.all() {
			if a.typ == "unreported_access" && a.trace == hex(trace) {
				return true
			}
		}
		return false
	}
	for name, trace := range map[string]pcommon.TraceID{
		"the unreported /etc/shadow open (enriched auditd)":    hidden,
		"the unreported metadata connect (enriched auditd)":    metadata,
		"the unreported /etc/shadow open (stock Falco rule)":   falco,
		"the unreported service-account token open (Tetragon)": tetragon,
	} {
		testutil.Eventually(t, 20*time.Second, func() bool { return flagged(trace) }, "%s was not flagged: %v\n%s", name, s.all(), c.Output())
	}
	time.Sleep(1500 * time.Millisecond) // a wrong record on a control would have arrived by now
	var un []anomaly
	for _, a := range s.all() {
		if a.typ == "unreported_access" {
			un = append(un, a)
		}
	}
	require.Len(t, un, 4, "one per unreported access; the reported opens are not flagged: %v", un)
	for _, a := range un {
		require.Equal(t, "notes-001", a.ext)
		require.NotEqual(t, hex(reported), a.trace)
	}
	t.Logf("anomalies: %v", s.all())
}
