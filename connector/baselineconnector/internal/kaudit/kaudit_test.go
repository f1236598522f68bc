package kaudit

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/detect"
)

// feed runs lines through a Parser as file_log leaves them with no
// operators (the raw line as the body, host.name on the resource), then
// closes the open events; it returns what was yielded.
func feed(t testing.TB, p *Parser, host string, lines ...string) []detect.Access {
	t.Helper()
	res := pcommon.NewMap()
	if host != "" {
		res.PutStr("host.name", host)
	}
	var got []detect.Access
	emit := func(a detect.Access) { got = append(got, a) }
	for _, l := range lines {
		rec := plog.NewLogRecord()
		rec.Body().SetStr(l)
		rec.Attributes().PutStr("log.file.name", "input.log") // file_log's default
		p.Parse(res, rec, 0, emit)
	}
	p.Reader().Close(emit)
	return got
}

func fileLines(t testing.TB, name string) []string {
	t.Helper()
	f, err := os.Open(name)
	require.NoError(t, err)
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	require.NoError(t, sc.Err())
	return out
}

// golden renders an access as a line of a .golden file: kind, pid, tid,
// syscall, result, target.
func golden(a detect.Access) string {
	kind := "open"
	switch {
	case a.Exec:
		kind = "exec"
	case a.Net:
		kind = "connect"
	case a.Syscall == "connect":
		kind = "unix"
	}
	if a.Unresolved {
		kind += "?"
	}
	res := "ok"
	if a.Failed {
		res = "failed"
	}
	return fmt.Sprintf("%s\t%d\t%d\t%s\t%s\t%s", kind, a.PID, a.TID, a.Syscall, res, a.Target)
}

// Every file of the corpus (real logs from other projects' test data,
// testdata/audit/corpus/README.md) yields exactly the accesses its
// .golden file lists; the goldens were written by reading the files.
func TestCorpus(t *testing.T) {
	files, err := filepath.Glob("../../testdata/audit/corpus/*.golden")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 12)
	for _, gf := range files {
		name := strings.TrimSuffix(gf, ".golden")
		t.Run(filepath.Base(name), func(t *testing.T) {
			var want []string
			for _, l := range fileLines(t, gf) {
				if l != "" && !strings.HasPrefix(l, "#") {
					want = append(want, l)
				}
			}
			var got []string
			for _, a := range feed(t, New(Config{}), "corpus-host", fileLines(t, name)...) {
				got = append(got, golden(a))
				assert.NotEmpty(t, a.Host, "%v", a)
				assert.NotZero(t, a.Time, "%v", a)
			}
			sort.Strings(want)
			sort.Strings(got)
			assert.Equal(t, want, got)
		})
	}
}

// The project's own sample: the raw lines, as file_log passes them.
func TestAuditdSample(t *testing.T) {
	p := New(Config{})
	got := feed(t, p, "sandbox-7", fileLines(t, "../../testdata/audit/audit.log")...)
	base := int64(1795000000) * int64(time.Second)
	ms := int64(time.Millisecond)
	assert.ElementsMatch(t, []detect.Access{
		{Host: "sandbox-7", PID: 4242, PPID: 1, Exe: "/usr/bin/node", Time: base + 120*ms, Target: "/etc/shadow", Syscall: "openat", Source: "auditd"},
		{Host: "sandbox-7", PID: 4242, PPID: 1, Exe: "/usr/bin/node", Time: base + 250*ms, Target: "/app/data/db.sqlite", Syscall: "openat", Source: "auditd"},
		{Host: "sandbox-7", PID: 4250, PPID: 4242, Exe: "/usr/bin/git", Time: base + 300*ms, Target: "/usr/bin/git", Syscall: "execve", Exec: true, Source: "auditd"},
		{Host: "sandbox-7", PID: 4251, PPID: 4242, Exe: "/usr/bin/dash", Time: base + 410*ms, Target: "/home/agent/.ssh/my key", Syscall: "openat", Failed: true, Source: "auditd"},
		{Host: "sandbox-7", PID: 4242, PPID: 1, Exe: "/usr/bin/node", Time: base + 520*ms, Net: true, Target: "169.254.169.254", Syscall: "connect", Failed: true, Source: "auditd"},
	}, got, "the PARENT path and the USER_LOGIN record yield nothing")
	assert.Equal(t, uint64(1), p.Reader().Stats.Ignored["USER_LOGIN"])

	rec := plog.NewLogRecord()
	rec.Attributes().PutStr("sandbox.script.id", "x")
	assert.False(t, p.Parse(pcommon.NewMap(), rec, 0, func(detect.Access) {}), "not an audit record")
	rec.Body().SetStr("GET /index.html 200")
	assert.False(t, p.Parse(pcommon.NewMap(), rec, 0, func(detect.Access) {}), "not an audit record")
}

func TestFalcoSample(t *testing.T) {
	got := feed(t, New(Config{}), "", fileLines(t, "../../testdata/audit/falco.jsonl")...)
	ts := func(s string) int64 { x, _ := time.Parse(time.RFC3339Nano, s); return x.UnixNano() }
	assert.Equal(t, []detect.Access{
		{Host: "sandbox-7", PID: 4242, PPID: 1, Exe: "/usr/bin/node", Time: ts("2026-11-29T08:00:00.13Z"), Target: "/etc/shadow", Syscall: "openat", Rule: "Read sensitive file untrusted", Source: "falco"},
		{Host: "sandbox-7", PID: 4242, PPID: 1, Exe: "/usr/bin/node", Time: ts("2026-11-29T08:00:00.54Z"), Net: true, Target: "169.254.169.254", Syscall: "connect", Failed: true, Rule: "Contact cloud metadata service from container", Source: "falco"},
		{Host: "sandbox-7", PID: 4260, PPID: 4242, Exe: "/bin/sh", Target: "/bin/sh", Syscall: "execve", Exec: true, Rule: "Terminal shell in container", Source: "falco", Time: ts("2026-11-29T08:00:01Z")},
	}, got)
}

// one returns the single access a set of lines yields.
func one(t *testing.T, lines ...string) detect.Access {
	t.Helper()
	got := feed(t, New(Config{}), "h", lines...)
	require.Len(t, got, 1, "%v", got)
	return got[0]
}

const hdr = "msg=audit(1700000000.500:77):"

// The failures the issue lists, each on the line that shows it.
func TestAuditdForms(t *testing.T) {
	sys := func(syscall, extra string) string {
		return "type=SYSCALL " + hdr + " arch=c000003e syscall=" + syscall + " success=yes exit=3 a0=ffffff9c items=1 ppid=1 pid=42 exe=\"/usr/bin/node\" " + extra
	}
	path := func(name string) string { return "type=PATH " + hdr + " item=0 name=" + name + " nametype=NORMAL" }

	t.Run("enriched SOCKADDR keeps its address", func(t *testing.T) {
		a := one(t, "type=SYSCALL "+hdr+" arch=c000003e syscall=42 success=no exit=-115 a0=3 items=0 ppid=1 pid=42 exe=\"/usr/bin/node\" key=(null)\x1dARCH=x86_64 SYSCALL=connect AUID=\"unset\"",
			"type=SOCKADDR "+hdr+" saddr=02000050A9FEA9FE0000000000000000\x1dSADDR={ saddr_fam=inet laddr=169.254.169.254 lport=80 }",
			"type=PROCTITLE "+hdr+" proctitle=6E6F6465")
		assert.Equal(t, "169.254.169.254", a.Target)
		assert.True(t, a.Net)
	})
	t.Run("records in any order", func(t *testing.T) {
		a := one(t, "type=PROCTITLE "+hdr+" proctitle=6E6F6465", path(`"x/y"`), "type=CWD "+hdr+` cwd="/app"`, sys("257", ""))
		assert.Equal(t, "/app/x/y", a.Target)
	})
	t.Run("RHEL 7 objtype=PARENT is no open", func(t *testing.T) {
		a := one(t, sys("257", "items=2"), "type=PATH "+hdr+` item=0 name="/etc/" objtype=PARENT`, "type=PATH "+hdr+` item=1 name="/etc/shadow" objtype=NORMAL`)
		assert.Equal(t, "/etc/shadow", a.Target)
	})
	t.Run("hex exe", func(t *testing.T) {
		a := one(t, strings.Replace(sys("257", ""), `exe="/usr/bin/node"`, "exe=2F7573722F62696E2F707974686F6E322E37", 1), path(`"/x"`))
		assert.Equal(t, "/usr/bin/python2.7", a.Exe)
	})
	t.Run("a newline or non-ASCII name stays checkable", func(t *testing.T) {
		assert.Equal(t, "/etc/sh\nadow", one(t, sys("257", ""), path("2F6574632F73680A61646F77")).Target)
		assert.Equal(t, "/home/ü/.ssh/id", one(t, sys("257", ""), path("2F686F6D652FC3BC2F2E7373682F6964")).Target)
	})
	t.Run("an all-digit name is a name", func(t *testing.T) {
		assert.Equal(t, "/data/2023", one(t, sys("257", ""), "type=CWD "+hdr+` cwd="/data"`, path(`"2023"`)).Target)
		assert.Equal(t, "/data/2023", one(t, sys("257", ""), "type=CWD "+hdr+` cwd="/data"`, path(`32303233`)).Target, "its hex")
	})
	t.Run("a name ending in a backslash", func(t *testing.T) {
		assert.Equal(t, `/tmp/x\`, one(t, sys("257", ""), path(`"/tmp/x\"`)).Target)
	})
	t.Run("openat relative to a dirfd is not resolved against the cwd", func(t *testing.T) {
		a := one(t, strings.Replace(sys("257", ""), "a0=ffffff9c", "a0=5", 1), "type=CWD "+hdr+` cwd="/app"`, path(`".aws/credentials"`))
		assert.Equal(t, ".aws/credentials", a.Target)
		assert.True(t, a.Unresolved)
	})
	t.Run("io_uring openat", func(t *testing.T) {
		a := one(t, "type=URINGOP "+hdr+" uring_op=18 success=yes exit=0 items=1 ppid=1 pid=42 uid=0 comm=\"node\" exe=\"/usr/bin/node\" subj=unconfined key=(null)",
			path(`"/etc/shadow"`), "type=EOE "+hdr)
		assert.Equal(t, "/etc/shadow", a.Target)
		assert.Equal(t, "io_uring:openat", a.Syscall)
	})
	t.Run("i386 socketcall connect", func(t *testing.T) {
		a := one(t, "type=SYSCALL "+hdr+" arch=40000003 syscall=102 success=yes exit=0 a0=3 a1=ffd0 items=0 ppid=1 pid=42 exe=\"/usr/bin/node\"",
			"type=SOCKETCALL "+hdr+" nargs=3 a0=5 a1=ffd0 a2=10", "type=SOCKADDR "+hdr+" saddr=02000050A9FEA9FE0000000000000000")
		assert.Equal(t, "169.254.169.254", a.Target)
		assert.Empty(t, feed(t, New(Config{}), "h", "type=SYSCALL "+hdr+" arch=40000003 syscall=102 success=yes exit=0 a0=2 items=0 pid=42",
			"type=SOCKADDR "+hdr+" saddr=02000050A9FEA9FE0000000000000000"), "socketcall bind")
	})
	for _, c := range []struct{ arch, nr, want string }{
		{"40000028", "322", "openat"}, {"40000028", "5", "open"}, {"c00000f3", "56", "openat"}, {"c00000b7", "56", "openat"}, {"40000003", "295", "openat"},
	} {
		t.Run("arch "+c.arch+" syscall "+c.nr, func(t *testing.T) {
			a := one(t, strings.Replace(sys(c.nr, ""), "c000003e", c.arch, 1), path(`"/etc/shadow"`))
			assert.Equal(t, c.want, a.Syscall)
		})
	}
	t.Run("SOCKADDR inet6 and unix", func(t *testing.T) {
		a := one(t, sys("42", "items=0"), "type=SOCKADDR "+hdr+" saddr=0A000050000000002600190000000000000000000000000100000000")
		assert.Equal(t, "2600:1900::1", a.Target)
		a = one(t, sys("42", "items=0"), "type=SOCKADDR "+hdr+" saddr=01002F7661722F72756E2F646F636B65722E736F636B00")
		assert.Equal(t, "/var/run/docker.sock", a.Target)
		assert.False(t, a.Net, "a unix socket is a file")
	})
	t.Run("header without the colon, node= prefix", func(t *testing.T) {
		got := feed(t, New(Config{}), "fallback",
			"node=web-3 type=SYSCALL msg=audit(1700000000.500:77) arch=c000003e syscall=2 success=yes exit=3 items=1 pid=42 exe=\"/x\"",
			"node=web-3 type=PATH msg=audit(1700000000.500:77) item=0 name=\"/etc/shadow\" nametype=NORMAL")
		require.Len(t, got, 1)
		assert.Equal(t, "web-3", got[0].Host)
	})
	t.Run("syslog carriers", func(t *testing.T) {
		for _, prefix := range []string{
			"Dec  2 05:00:00 web-3 audispd: ",
			"2026-12-02T05:00:00.123+00:00 web-3 audisp-syslog: ",
		} {
			a := one(t, prefix+sys("257", ""), prefix+path(`"/etc/shadow"`))
			assert.Equal(t, "/etc/shadow", a.Target, prefix)
		}
		a := one(t, "Dec  2 05:00:00 web-3 kernel: audit: type=1300 audit(1700000000.500:77): arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c items=1 ppid=1 pid=42 exe=\"/usr/bin/node\"",
			"Dec  2 05:00:00 web-3 kernel: audit: type=1302 audit(1700000000.500:77): item=0 name=\"/etc/shadow\" nametype=NORMAL")
		assert.Equal(t, "/etc/shadow", a.Target, "the kernel's own printk form")
	})
	t.Run("journald short form joins by adjacency", func(t *testing.T) {
		got := feed(t, New(Config{}), "web-3",
			"Dec 02 05:00:00 web-3 audit[42]: SYSCALL arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c items=1 ppid=1 pid=42 exe=\"/usr/bin/node\"",
			"Dec 02 05:00:00 web-3 audit: CWD cwd=\"/app\"",
			"Dec 02 05:00:00 web-3 audit: PATH item=0 name=\"db.sqlite\" nametype=NORMAL",
			"Dec 02 05:00:00 web-3 audit[43]: SYSCALL arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c items=1 ppid=1 pid=43 exe=\"/usr/bin/node\"",
			"Dec 02 05:00:00 web-3 audit: PATH item=0 name=\"/etc/shadow\" nametype=NORMAL")
		var s []string
		for _, a := range got {
			s = append(s, fmt.Sprintf("%d %s", a.PID, a.Target))
		}
		assert.ElementsMatch(t, []string{"42 /app/db.sqlite", "43 /etc/shadow"}, s)
	})
	t.Run("ausearch -i", func(t *testing.T) {
		got := feed(t, New(Config{}), "h",
			"----",
			"type=PROCTITLE msg=audit(12/02/2026 05:00:00.500:77) : proctitle=node /app/host.js",
			"type=PATH msg=audit(12/02/2026 05:00:00.500:77) : item=0 name=/etc/shadow inode=1 nametype=NORMAL",
			"type=CWD msg=audit(12/02/2026 05:00:00.500:77) : cwd=/app",
			"type=SYSCALL msg=audit(12/02/2026 05:00:00.500:77) : arch=x86_64 syscall=openat success=yes exit=3 a0=AT_FDCWD items=1 ppid=1 pid=42 exe=/usr/bin/node",
			"----",
			"type=SOCKADDR msg=audit(12/02/2026 05:00:00.600:78) : saddr={ saddr_fam=inet laddr=169.254.169.254 lport=80 }",
			"type=SYSCALL msg=audit(12/02/2026 05:00:00.600:78) : arch=x86_64 syscall=connect success=no exit=EINPROGRESS a0=0x3 items=0 ppid=1 pid=42 exe=/usr/bin/node")
		require.Len(t, got, 2)
		assert.Equal(t, "/etc/shadow", got[0].Target)
		assert.Equal(t, "169.254.169.254", got[1].Target)
		want, _ := time.ParseInLocation("01/02/2006 15:04:05.000", "12/02/2026 05:00:00.500", time.Local)
		assert.Equal(t, want.UnixNano(), got[0].Time)
	})
	t.Run("records that are no open or connect go nowhere and are counted", func(t *testing.T) {
		p := New(Config{})
		got := feed(t, p, "h",
			`type=AVC msg=audit(1700000000.500:80): avc:  denied  { read } for  pid=13010 comm="pickup" name="maildrop"`,
			`type=USER_ACCT msg=audit(1170021601.340:294): user pid=13015 uid=0 auid=4294967295 msg='PAM: accounting acct=root : exe="/usr/sbin/crond"'`,
			`type=DAEMON_START msg=audit(1481076983.819:7798): auditd start, ver=2.4.1 format=raw`,
			`type=TTY msg=audit(1700000000.500:81): tty pid=4 uid=0 data=6C73`,
			`type=UNKNOWN[1329] msg=?`,
			sys("44", "items=0"), "type=PROCTITLE "+hdr+" proctitle=6E6F6465")
		assert.Empty(t, got)
		st := p.Reader().Stats
		assert.Equal(t, map[string]uint64{"AVC": 1, "USER_ACCT": 1, "DAEMON_START": 1, "TTY": 1, "unparsed": 1, "SYSCALL": 1, "PROCTITLE": 1}, st.Ignored)
	})
}

func TestJournaldJSON(t *testing.T) {
	p := New(Config{})
	got := feed(t, p, "",
		`{"_TRANSPORT":"audit","_HOSTNAME":"web-3","_AUDIT_TYPE_NAME":"SYSCALL","_AUDIT_ID":"77","_SOURCE_REALTIME_TIMESTAMP":"1700000000500000","MESSAGE":"SYSCALL arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c items=1 ppid=1 pid=42 exe=\"/usr/bin/node\""}`,
		`{"_TRANSPORT":"audit","_HOSTNAME":"web-3","_AUDIT_TYPE_NAME":"PATH","_AUDIT_ID":"77","_SOURCE_REALTIME_TIMESTAMP":"1700000000500000","MESSAGE":"PATH item=0 name=\"/etc/shadow\" nametype=NORMAL"}`,
		`{"_TRANSPORT":"syslog","MESSAGE":"hello"}`)
	require.Len(t, got, 1)
	assert.Equal(t, detect.Access{Host: "web-3", PID: 42, PPID: 1, Exe: "/usr/bin/node", Time: 1700000000500000000, Target: "/etc/shadow", Syscall: "openat", Source: "auditd"}, got[0])
}

func TestFalcoIPv6AndNoPID(t *testing.T) {
	got := feed(t, New(Config{}), "",
		`{"hostname":"h","rule":"Outbound","time":"2026-11-29T08:00:00Z","output_fields":{"evt.type":"connect","fd.name":"2001:db8::5:51022->fd00:ec2::254:80","proc.pid":7,"thread.tid":9}}`,
		`{"hostname":"h","rule":"Read sensitive file untrusted","time":"2026-11-29T08:00:00Z","output_fields":{"evt.type":"openat","fd.name":"/etc/shadow","container.id":"9656db3bb358"}}`)
	require.Len(t, got, 2)
	assert.Equal(t, "fd00:ec2::254", got[0].Target)
	assert.Equal(t, int64(9), got[0].TID)
	assert.Equal(t, int64(0), got[1].PID)
	assert.Equal(t, "9656db3bb358", got[1].ContainerID)
	assert.Equal(t, "Read sensitive file untrusted", got[1].Rule)
}

func TestTetragonConnect(t *testing.T) {
	a := one(t, `{"process_kprobe":{"process":{"pid":4242,"tid":4250,"binary":"/usr/bin/node","pod":{"container":{"id":"containerd://6b742e38ee3a"}}},"parent":{"pid":1},"function_name":"tcp_connect","args":[{"sock_arg":{"family":"AF_INET","type":"SOCK_STREAM","protocol":"IPPROTO_TCP","saddr":"10.0.4.7","daddr":"169.254.169.254","sport":51022,"dport":80}}],"action":"KPROBE_ACTION_POST","policy_name":"sandwatch"},"node_name":"sandbox-7","time":"2026-11-29T08:00:00.54Z"}`)
	assert.Equal(t, detect.Access{Host: "sandbox-7", PID: 4242, TID: 4250, PPID: 1, Exe: "/usr/bin/node", Net: true, Target: "169.254.169.254", Syscall: "tcp_connect",
		ContainerID: "6b742e38ee3a", Source: "tetragon", Time: time.Date(2026, 11, 29, 8, 0, 0, 540e6, time.UTC).UnixNano()}, a)
}

// Records whose event never ends are bounded and closed with what they
// have.
func TestReaderBounds(t *testing.T) {
	p := New(Config{MaxOpen: 16, Wait: time.Second})
	res := pcommon.NewMap()
	var got int
	for i := 0; i < 1000; i++ {
		rec := plog.NewLogRecord()
		rec.Body().SetStr(fmt.Sprintf(`type=PATH msg=audit(1.0:%d): item=0 name="/x" nametype=NORMAL`, i))
		p.Parse(res, rec, int64(i), func(detect.Access) { got++ })
		assert.LessOrEqual(t, p.Reader().Open(), 16)
		assert.LessOrEqual(t, len(p.Reader().order), 64+2*16)
	}
	assert.Zero(t, got)
	p.Flush(int64(2*time.Second)+1000, func(detect.Access) { got++ })
	assert.Zero(t, p.Reader().Open())
	assert.Equal(t, uint64(1000), p.Reader().Stats.Orphans)
}

// An event whose EOE never comes (auditd's own log has none) closes when
// the next complete event of the node begins, or after the wait.
func TestReaderClosing(t *testing.T) {
	r := NewReader(Config{Wait: time.Second})
	var got []string
	emit := func(a detect.Access) { got = append(got, a.Target) }
	r.Line("type=SYSCALL "+hdr+` arch=c000003e syscall=2 success=yes items=1 pid=1 exe="/x"`, "h", 0, 0, emit)
	r.Line("type=PATH "+hdr+` item=0 name="/a" nametype=NORMAL`, "h", 0, 0, emit)
	assert.Empty(t, got)
	r.Line(`type=SYSCALL msg=audit(1700000000.600:78): arch=c000003e syscall=2 success=yes items=1 pid=1 exe="/x"`, "h", 0, 0, emit)
	assert.Equal(t, []string{"/a"}, got, "closed by the next event")
	r.Flush(int64(time.Second)-1, emit)
	assert.Len(t, got, 1)
	r.Flush(int64(time.Second), emit)
	assert.Len(t, got, 1, "78 has no PATH yet: it closes with nothing")
	assert.Zero(t, r.Open())
}

func TestKeyValueParsedIsCounted(t *testing.T) {
	p := New(Config{})
	rec := plog.NewLogRecord()
	rec.Attributes().PutStr("type", "SYSCALL")
	rec.Attributes().PutStr("msg", "audit(1.0:1):")
	assert.True(t, p.Parse(pcommon.NewMap(), rec, 0, func(detect.Access) {}))
	assert.Equal(t, uint64(1), p.KeyValueParsed)
}

// Text that merely mentions audit is no audit record: it stays a sandbox
// event.
func TestNotAudit(t *testing.T) {
	p := New(Config{})
	for _, l := range []string{
		"security audit: FAILED login for bob",
		"2026-12-02 app[7]: audit: PATH traversal blocked",
		"type=sandbox msg=hello",
		`{"level":"info","msg":"type=SYSCALL"}`,
		"",
	} {
		rec := plog.NewLogRecord()
		rec.Body().SetStr(l)
		assert.False(t, p.Parse(pcommon.NewMap(), rec, 0, func(detect.Access) {}), l)
	}
}
