package kaudit

import (
	"net/netip"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/detect"
)

// falco reads a Falco JSON alert (json_output: true): output_fields
// holds evt.type and fd.name, and, where the rule outputs them or the
// append_output snippet adds them, proc.pid, proc.ppid, thread.tid and
// fd.sip. Alerts of stock rules carry no pid: they are yielded with PID 0
// and their container.id, for the cross-check to correlate by container
// or host and time. It reports whether the alert was an open, exec or
// connect with a target.
func falco(res, m, of pcommon.Map, emit func(detect.Access)) bool {
	typ := str(of, "evt.type")
	a := detect.Access{Host: str(m, "hostname"), PID: num(of, "proc.pid"), PPID: num(of, "proc.ppid"), TID: num(of, "thread.tid"),
		Exe: str(of, "proc.exepath"), Syscall: typ, ContainerID: containerID(str(of, "container.id")), Rule: str(m, "rule"), Source: "falco"}
	if a.Host == "" {
		a.Host = str(res, "host.name")
	}
	if a.Exe == "" {
		a.Exe = str(of, "proc.exe")
	}
	if ts, err := time.Parse(time.RFC3339Nano, str(m, "time")); err == nil {
		a.Time = ts.UnixNano()
	} else {
		a.Time = num(of, "evt.time")
	}
	if f, ok := of.Get("evt.failed"); ok && f.Type() == pcommon.ValueTypeBool {
		a.Failed = f.Bool()
	} else if r := str(of, "evt.res"); r != "" && r != "SUCCESS" {
		a.Failed = true
	}
	switch typ {
	case "open", "openat", "openat2", "creat", "open_by_handle_at":
		a.Target = str(of, "fd.name")
	case "execve", "execveat":
		a.Exec, a.Target = true, a.Exe
	case "connect":
		a.Net, a.Target = true, str(of, "fd.sip")
		if a.Target == "" {
			a.Target = serverAddr(str(of, "fd.name"))
		}
	}
	if a.Target == "" {
		return false
	}
	a.Host, a.Exe, a.Target = clip(a.Host), clip(a.Exe), clip(a.Target)
	emit(a)
	return true
}

// serverAddr reads the server of Falco's fd.name for a connection,
// "client:port->server:port". Falco writes IPv6 addresses without
// brackets ("2001:db8::5:51022->2001:db8::1:443"), so the port is what
// follows the last colon.
func serverAddr(name string) string {
	_, server, ok := strings.Cut(name, "->")
	if !ok {
		return ""
	}
	if ap, err := netip.ParseAddrPort(server); err == nil {
		return ap.Addr().Unmap().String()
	}
	c := strings.LastIndexByte(server, ':')
	if c < 0 {
		return ""
	}
	if a, err := netip.ParseAddr(server[:c]); err == nil {
		return a.Unmap().String()
	}
	return ""
}
