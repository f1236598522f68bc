package kaudit

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/detect"
)

// kv mirrors the file_log key_value_parser the documented config runs on
// an auditd line: pairs split on spaces outside quotes, outer quotes
// removed, each pair split at its first '='. (The e2e test runs the real
// receiver.)
func kv(line string) pcommon.Map {
	m := pcommon.NewMap()
	var pairs []string
	var cur strings.Builder
	var quote byte
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote == 0 && c == ' ':
			if cur.Len() > 0 {
				pairs = append(pairs, cur.String())
				cur.Reset()
			}
		case quote == 0 && (c == '"' || c == '\''):
			quote = c
		case c == quote:
			quote = 0
		default:
			cur.WriteByte(c)
		}
	}
	if cur.Len() > 0 {
		pairs = append(pairs, cur.String())
	}
	for _, p := range pairs {
		if k, v, ok := strings.Cut(p, "="); ok {
			m.PutStr(k, v)
		}
	}
	return m
}

func lines(t *testing.T, name string) []string {
	f, err := os.Open("../../testdata/audit/" + name)
	require.NoError(t, err)
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

func TestAuditdSample(t *testing.T) {
	p := New()
	res := pcommon.NewMap()
	res.PutStr("host.name", "sandbox-7")
	var got []detect.Access
	for _, l := range lines(t, "audit.log") {
		require.True(t, p.Parse(res, kv(l), func(a detect.Access) { got = append(got, a) }), l)
	}
	base := int64(1795000000) * int64(time.Second)
	assert.Equal(t, []detect.Access{
		{Host: "sandbox-7", PID: 4242, PPID: 1, Exe: "/usr/bin/node", Time: base + 120*int64(time.Millisecond), Target: "/etc/shadow", Syscall: "openat"},
		{Host: "sandbox-7", PID: 4242, PPID: 1, Exe: "/usr/bin/node", Time: base + 250*int64(time.Millisecond), Target: "/app/data/db.sqlite", Syscall: "openat"},
		{Host: "sandbox-7", PID: 4251, PPID: 4242, Exe: "/usr/bin/dash", Time: base + 410*int64(time.Millisecond), Target: "/home/agent/.ssh/my key", Syscall: "openat", Failed: true},
		{Host: "sandbox-7", PID: 4242, PPID: 1, Exe: "/usr/bin/node", Time: base + 520*int64(time.Millisecond), Net: true, Target: "169.254.169.254", Syscall: "connect", Failed: true},
	}, got, "execve, the PARENT path and the USER_LOGIN record yield nothing")

	other := pcommon.NewMap()
	other.PutStr("sandbox.script.id", "x")
	assert.False(t, p.Parse(res, other, func(detect.Access) {}), "not an audit record")
}

func TestAuditdPendingBound(t *testing.T) {
	p := New()
	res := pcommon.NewMap()
	for i := 0; i < 3*maxPending; i++ {
		p.Parse(res, kv(fmt.Sprintf("type=SYSCALL msg=audit(1.0:%d): arch=c000003e syscall=257 pid=1 exe=/x", i)), func(detect.Access) {})
	}
	assert.LessOrEqual(t, len(p.pending), maxPending)
	assert.LessOrEqual(t, len(p.order), maxPending)
}

func TestFalcoSample(t *testing.T) {
	p := New()
	res := pcommon.NewMap()
	var got []detect.Access
	for _, l := range lines(t, "falco.jsonl") {
		var raw map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &raw))
		attrs := pcommon.NewMap()
		require.NoError(t, attrs.FromRaw(raw))
		require.True(t, p.Parse(res, attrs, func(a detect.Access) { got = append(got, a) }))
	}
	ts := func(s string) int64 { x, _ := time.Parse(time.RFC3339Nano, s); return x.UnixNano() }
	assert.Equal(t, []detect.Access{
		{Host: "sandbox-7", PID: 4242, PPID: 1, Exe: "/usr/bin/node", Time: ts("2026-11-29T08:00:00.13Z"), Target: "/etc/shadow", Syscall: "openat"},
		{Host: "sandbox-7", PID: 4242, PPID: 1, Exe: "/usr/bin/node", Time: ts("2026-11-29T08:00:00.54Z"), Net: true, Target: "169.254.169.254", Syscall: "connect", Failed: true},
	}, got, "the execve event yields nothing")
}
