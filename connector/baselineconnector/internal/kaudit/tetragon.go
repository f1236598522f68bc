package kaudit

import (
	"net/netip"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/detect"
)

// tetragonOther are the export's event kinds the cross-check does not
// read (counted, not read as sandbox events).
var tetragonOther = []string{"process_exit", "process_tracepoint", "process_uprobe", "process_lsm", "process_loader", "process_throttle", "rate_limit_info"}

// tetragonProcess fills what every Tetragon event says of its process:
// process.pid, .tid, .binary, the parent's pid, the pod's container id
// (or docker), node_name and time.
func tetragonProcess(res, m, ev pcommon.Map) (detect.Access, bool) {
	proc, ok := sub(ev, "process")
	if !ok {
		return detect.Access{}, false
	}
	a := detect.Access{Host: str(m, "node_name"), PID: num(proc, "pid"), TID: num(proc, "tid"), Exe: str(proc, "binary"), Source: "tetragon"}
	if parent, ok := sub(ev, "parent"); ok {
		a.PPID = num(parent, "pid")
	}
	if a.Host == "" {
		a.Host = str(res, "host.name")
	}
	if c, ok := sub(proc, "pod", "container"); ok {
		a.ContainerID = containerID(str(c, "id"))
	}
	if a.ContainerID == "" {
		a.ContainerID = containerID(str(proc, "docker"))
	}
	if ts, err := time.Parse(time.RFC3339Nano, str(m, "time")); err == nil {
		a.Time = ts.UnixNano()
	}
	return a, true
}

// tetragonExec reads a process_exec event: an exec of process.binary.
func tetragonExec(res, m, ev pcommon.Map, emit func(detect.Access)) bool {
	a, ok := tetragonProcess(res, m, ev)
	if !ok || a.Exe == "" {
		return false
	}
	a.Exec, a.Target, a.Syscall = true, clip(a.Exe), "execve"
	a.Host, a.Exe = clip(a.Host), clip(a.Exe)
	emit(a)
	return true
}

// tetragonConnect reads the process_connect event of Tetragon releases
// before kprobe policies replaced it (destination_ip).
func tetragonConnect(res, m, ev pcommon.Map, emit func(detect.Access)) bool {
	a, ok := tetragonProcess(res, m, ev)
	if !ok {
		return false
	}
	a.Net, a.Target, a.Syscall = true, addr(str(ev, "destination_ip")), "process_connect"
	if a.Target == "" {
		return false
	}
	a.Host, a.Exe = clip(a.Host), clip(a.Exe)
	emit(a)
	return true
}

// tetragonKprobe reads a process_kprobe event of a file or connect hook
// (the TracingPolicy in the baseline README): the first argument that is
// a file (file_arg, path_arg: security_file_open, security_file_permission,
// fd_install), a string of an open syscall (sys_openat), a socket
// (sock_arg: tcp_connect; daddr) or a socket address (sockaddr_arg:
// security_socket_connect). A negative return marks it failed.
func tetragonKprobe(res, m, ev pcommon.Map, emit func(detect.Access)) bool {
	a, ok := tetragonProcess(res, m, ev)
	if !ok {
		return false
	}
	fn := str(ev, "function_name")
	a.Syscall = fn
	if r, ok := sub(ev, "return"); ok && num(r, "int_arg") != 0 {
		if v, ok := r.Get("int_arg"); ok && v.Type() == pcommon.ValueTypeInt && v.Int() < 0 {
			a.Failed = true
		}
	}
	args, ok := ev.Get("args")
	if !ok || args.Type() != pcommon.ValueTypeSlice {
		return false
	}
	for i := 0; i < args.Slice().Len() && a.Target == ""; i++ {
		v := args.Slice().At(i)
		if v.Type() != pcommon.ValueTypeMap {
			continue
		}
		arg := v.Map()
		if f, ok := sub(arg, "file_arg"); ok {
			a.Target = absolute(str(f, "path"))
		} else if f, ok := sub(arg, "path_arg"); ok {
			a.Target = absolute(str(f, "path"))
		} else if f, ok := sub(arg, "linux_binprm_arg"); ok {
			a.Target, a.Exec = absolute(str(f, "path")), true
		} else if s, ok := sub(arg, "sock_arg"); ok {
			a.Target, a.Net = addr(str(s, "daddr")), true
		} else if s, ok := sub(arg, "sockaddr_arg"); ok {
			a.Target, a.Net = addr(str(s, "addr")), true
		} else if s := str(arg, "string_arg"); s != "" && strings.Contains(fn, "open") {
			a.Target = s
			a.Unresolved = !strings.HasPrefix(s, "/")
		}
	}
	if a.Target == "" {
		return false
	}
	a.Host, a.Exe, a.Target, a.Syscall = clip(a.Host), clip(a.Exe), clip(a.Target), clip(a.Syscall)
	emit(a)
	return true
}

// absolute: a file_arg path is the kernel's d_path of the file, absolute;
// the export of older Tetragon releases dropped the leading slash
// ("usr/share/x"), which this restores.
func absolute(p string) string {
	if p == "" || strings.HasPrefix(p, "/") {
		return p
	}
	return "/" + p
}

func addr(s string) string {
	if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return a.Unmap().String()
	}
	return ""
}
