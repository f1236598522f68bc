// Package kaudit reads the kernel's record of what a process did, as log
// records from the file_log receiver: Linux auditd lines (parsed into
// attributes by a key_value_parser; a SYSCALL record joined with its CWD,
// PATH and SOCKADDR records by the event serial) and Falco JSON events
// (parsed by a json_parser). It yields file opens and connects, with the
// host, process id, parent and executable, for the baseline's
// unreported_access cross-check. Pure: pdata maps in, values out.
package kaudit

import (
	"encoding/hex"
	"net/netip"
	"path"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/detect"
)

// maxPending bounds SYSCALL records waiting for their PATH/SOCKADDR
// records (they follow at once in the log; a bound survives a lost line).
const maxPending = 1024

type syscallRec struct {
	acc detect.Access
	net bool
	cwd string
}

type serialKey struct {
	host   string
	serial uint64
}

// Parser joins auditd records; Falco events stand alone. Not safe for
// concurrent use.
type Parser struct {
	pending map[serialKey]*syscallRec
	order   []serialKey
}

// New returns a parser.
func New() *Parser { return &Parser{pending: map[serialKey]*syscallRec{}} }

// Parse reads one log record (its resource and own attributes) and calls
// emit for each access it completes; it reports whether the record was a
// kernel audit record at all (so it is not classified as a sandbox event).
func (p *Parser) Parse(res, attrs pcommon.Map, emit func(detect.Access)) bool {
	if t, ok := attrs.Get("type"); ok && isAuditType(t.Str()) {
		msg := str(attrs, "msg")
		if strings.HasPrefix(msg, "audit(") {
			p.auditd(res, attrs, t.Str(), msg, emit)
			return true
		}
		// A user-space record (USER_LOGIN...) whose own msg='...' field
		// replaced the header's: an audit record, with nothing for us.
		_, auid := attrs.Get("auid")
		return auid
	}
	if of, ok := attrs.Get("output_fields"); ok && of.Type() == pcommon.ValueTypeMap {
		falco(res, attrs, of.Map(), emit)
		return true
	}
	return false
}

// isAuditType: auditd record types are upper-case words (SYSCALL, PATH,
// USER_LOGIN).
func isAuditType(t string) bool {
	if len(t) < 3 {
		return false
	}
	for i := 0; i < len(t); i++ {
		if c := t[i]; (c < 'A' || c > 'Z') && c != '_' {
			return false
		}
	}
	return true
}

func str(m pcommon.Map, k string) string {
	if v, ok := m.Get(k); ok {
		return v.AsString()
	}
	return ""
}

func num(m pcommon.Map, k string) int64 {
	v, ok := m.Get(k)
	if !ok {
		return 0
	}
	switch v.Type() {
	case pcommon.ValueTypeInt:
		return v.Int()
	case pcommon.ValueTypeDouble:
		return int64(v.Double())
	}
	n, _ := strconv.ParseInt(strings.TrimSpace(v.AsString()), 10, 64)
	return n
}

// host is the auditd node= name, else the resource's host.name.
func host(res, attrs pcommon.Map, key string) string {
	if h := str(attrs, key); h != "" {
		return h
	}
	return str(res, "host.name")
}

// parseMsg reads "audit(1795000000.120:4711):" into a time and a serial.
func parseMsg(msg string) (int64, uint64, bool) {
	msg = strings.TrimPrefix(msg, "audit(")
	end := strings.IndexByte(msg, ')')
	if end < 0 {
		return 0, 0, false
	}
	ts, serial, ok := strings.Cut(msg[:end], ":")
	if !ok {
		return 0, 0, false
	}
	n, err := strconv.ParseUint(serial, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	sec, frac, _ := strings.Cut(ts, ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	var ns int64
	if frac != "" {
		f, err := strconv.ParseInt((frac + "000000000")[:9], 10, 64)
		if err == nil {
			ns = f
		}
	}
	return s*int64(time.Second) + ns, n, true
}

func (p *Parser) auditd(res, attrs pcommon.Map, typ, msg string, emit func(detect.Access)) {
	t, serial, ok := parseMsg(msg)
	if !ok {
		return
	}
	key := serialKey{host(res, attrs, "node"), serial}
	switch typ {
	case "SYSCALL":
		name, file, net := syscallName(str(attrs, "arch"), str(attrs, "syscall"), str(attrs, "SYSCALL"))
		if !file && !net {
			return
		}
		if len(p.order) >= maxPending {
			delete(p.pending, p.order[0])
			p.order = p.order[1:]
		}
		p.pending[key] = &syscallRec{net: net, acc: detect.Access{Host: key.host, PID: num(attrs, "pid"), PPID: num(attrs, "ppid"),
			Exe: str(attrs, "exe"), Time: t, Syscall: name, Failed: str(attrs, "success") == "no"}}
		p.order = append(p.order, key)
	case "CWD":
		if r := p.pending[key]; r != nil {
			r.cwd = decode(str(attrs, "cwd"))
		}
	case "PATH":
		r := p.pending[key]
		if r == nil || r.net || str(attrs, "nametype") == "PARENT" {
			return
		}
		name := decode(str(attrs, "name"))
		if name == "" || name == "(null)" {
			return
		}
		if !strings.HasPrefix(name, "/") && r.cwd != "" {
			name = path.Join(r.cwd, name)
		}
		a := r.acc
		a.Target = name
		emit(a)
	case "SOCKADDR":
		r := p.pending[key]
		if r == nil || !r.net {
			return
		}
		if addr, ok := sockaddr(str(attrs, "saddr")); ok {
			a := r.acc
			a.Net, a.Target = true, addr
			emit(a)
		}
	case "EOE":
		delete(p.pending, key) // the order slice forgets it at the bound
	}
}

// syscallName names an auditd syscall and says whether it opens a file or
// connects: from the enriched SYSCALL= field, else the number on the
// record's arch (x86_64, aarch64, i386).
func syscallName(arch, number, enriched string) (string, bool, bool) {
	name := enriched
	if name == "" {
		name = syscallNumbers[arch+":"+number]
	}
	switch name {
	case "open", "openat", "openat2", "creat", "open_by_handle_at":
		return name, true, false
	case "connect":
		return name, false, true
	}
	return name, false, false
}

var syscallNumbers = map[string]string{
	"c000003e:2": "open", "c000003e:257": "openat", "c000003e:437": "openat2", "c000003e:85": "creat", "c000003e:42": "connect",
	"c00000b7:56": "openat", "c00000b7:437": "openat2", "c00000b7:203": "connect",
	"40000003:5": "open", "40000003:295": "openat", "40000003:8": "creat", "40000003:362": "connect",
}

// decode undoes auditd's hex encoding of untrusted strings (a value with
// a space, a quote or a control character is logged as hex, unquoted; the
// key_value_parser has already removed the quotes of the others, so a
// value is hex only if it decodes to printable text).
func decode(s string) string {
	if len(s) < 2 || len(s)%2 != 0 || strings.HasPrefix(s, "/") {
		return s
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return s
	}
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return s
		}
	}
	return string(b)
}

// sockaddr decodes an auditd saddr (a hex struct sockaddr) of family
// AF_INET or AF_INET6 into an address.
func sockaddr(s string) (string, bool) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) < 8 {
		return "", false
	}
	switch uint16(b[0]) | uint16(b[1])<<8 { // sa_family, host order (little-endian here)
	case 2: // AF_INET: family, port, 4 address bytes
		return netip.AddrFrom4([4]byte(b[4:8])).String(), true
	case 10: // AF_INET6: family, port, flowinfo, 16 address bytes
		if len(b) < 24 {
			return "", false
		}
		return netip.AddrFrom16([16]byte(b[8:24])).Unmap().String(), true
	}
	return "", false
}

// falco reads a Falco JSON event (json_parser output): output_fields holds
// evt.type, proc.pid, proc.ppid, proc.exe, fd.name and, for a connect,
// fd.sip.
func falco(res, attrs, of pcommon.Map, emit func(detect.Access)) {
	typ := str(of, "evt.type")
	a := detect.Access{Host: host(res, attrs, "hostname"), PID: num(of, "proc.pid"), PPID: num(of, "proc.ppid"),
		Exe: str(of, "proc.exepath"), Syscall: typ}
	if a.Exe == "" {
		a.Exe = str(of, "proc.exe")
	}
	if ts, err := time.Parse(time.RFC3339Nano, str(attrs, "time")); err == nil {
		a.Time = ts.UnixNano()
	} else {
		a.Time = num(of, "evt.time")
	}
	if r := str(of, "evt.res"); r != "" && r != "SUCCESS" {
		a.Failed = true
	}
	switch typ {
	case "open", "openat", "openat2", "creat":
		a.Target = str(of, "fd.name")
	case "connect":
		a.Net, a.Target = true, str(of, "fd.sip")
		if a.Target == "" { // fd.name is "client:port->server:port"
			if _, server, ok := strings.Cut(str(of, "fd.name"), "->"); ok {
				if ap, err := netip.ParseAddrPort(server); err == nil {
					a.Target = ap.Addr().String()
				}
			}
		}
	default:
		return
	}
	if a.Target != "" && a.PID != 0 {
		emit(a)
	}
}
