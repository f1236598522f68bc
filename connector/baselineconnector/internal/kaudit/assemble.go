package kaudit

import (
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/detect"
)

// Bounds of the reader (per Reader).
const (
	// DefaultMaxOpen events may wait for their records at once; beyond,
	// the oldest is closed with what it has.
	DefaultMaxOpen = 4096
	// DefaultWait closes an event whose EOE never comes (auditd's log
	// file has none; a lost line) this long after its first record.
	DefaultWait = 2 * time.Second
	// maxItems PATH records are kept per event (a syscall touches a
	// handful; an execve of a script names four).
	maxItems = 16
	// maxValue bytes of a name, cwd or exe are kept.
	maxValue = 4096
)

// Config bounds a Reader.
type Config struct {
	MaxOpen int
	Wait    time.Duration
}

type eventKey struct {
	node   string
	serial uint64
}

type pathItem struct {
	item     int
	name     string
	nametype string
}

// event is one audit event's records gathered so far, in any order.
type event struct {
	key     eventKey
	first   int64 // arrival, unix ns
	time    int64
	hasCall bool
	uring   bool
	call    string
	// From a0: an *at call's dirfd is a real descriptor; socketcall's
	// call is connect.
	dirfd, socketConnect bool
	items                int
	failed               bool
	pid                  int64
	ppid                 int64
	exe                  string
	cwd                  string
	paths                []pathItem
	saddr                string
	unix                 bool
	hasAddr              bool
	records              []string // types of the records, for the counts of what yields nothing
}

// Reader joins auditd records into events and yields their opens, execs
// and connects. Records of one event may come in any order (ausearch
// writes PATH before SYSCALL, forwarders reorder); an event closes on its
// EOE, on ausearch's "----", when a later event of the same node arrives
// and it is complete (its SYSCALL and every PATH it announced, and for a
// connect its SOCKADDR), or Wait after its first record. Not safe for
// concurrent use.
type Reader struct {
	cfg   Config
	open  map[eventKey]*event
	order []eventKey // arrival order, for the bound and the wait
	// lastNoSerial is the synthetic serial of the last header-less event
	// per node (journald's short form: records join by adjacency).
	lastNoSerial map[string]uint64
	nextSynth    uint64
	buf          []field
	Stats        Stats
}

// NewReader returns a Reader; zero fields of cfg take the defaults.
func NewReader(cfg Config) *Reader {
	if cfg.MaxOpen <= 0 {
		cfg.MaxOpen = DefaultMaxOpen
	}
	if cfg.Wait <= 0 {
		cfg.Wait = DefaultWait
	}
	return &Reader{cfg: cfg, open: map[eventKey]*event{}, lastNoSerial: map[string]uint64{}, nextSynth: 1 << 63, Stats: newStats()}
}

// Line reads one line of text. host names the record's machine when the
// line has no node= (the log record's host.name); at is the carrier's
// time for lines without a header (unix ns); now is the arrival time. It
// reports whether the line was an audit record at all.
func (r *Reader) Line(line, host string, at, now int64, emit func(detect.Access)) bool {
	var rec record
	switch parseLine(line, &rec, r.buf) {
	case lineNone:
		return false
	case lineSeparator:
		r.closeAll(emit)
		return true
	case lineBroken:
		r.Stats.count("unparsed")
		return true
	}
	r.buf = rec.fields[:0]
	if rec.node == "" {
		rec.node = host
	}
	if rec.noSerial {
		if rec.time == 0 {
			rec.time = at
		}
		r.synthSerial(&rec)
	}
	r.Record(&rec, now, emit)
	return true
}

// synthSerial gives a header-less record (journald short form) the
// serial of the event it is adjacent to: a SYSCALL or URINGOP starts a
// new one, the others join the last.
func (r *Reader) synthSerial(rec *record) {
	s, ok := r.lastNoSerial[rec.node]
	if !ok || rec.typ == "SYSCALL" || rec.typ == "URINGOP" {
		if !ok && len(r.lastNoSerial) >= r.cfg.MaxOpen {
			clear(r.lastNoSerial)
		}
		r.nextSynth++
		s = r.nextSynth
		r.lastNoSerial[clipNode(rec.node)] = s
	}
	rec.serial = s
}

// Record adds one parsed record.
func (r *Reader) Record(rec *record, now int64, emit func(detect.Access)) {
	r.Stats.Records++
	switch rec.typ {
	case "SYSCALL", "URINGOP", "CWD", "PATH", "SOCKADDR", "EOE", "PROCTITLE", "EXECVE", "SOCKETCALL":
	default:
		// A record that is never part of an open or connect (AVC alone,
		// USER_*, DAEMON_*, TTY, CONFIG_CHANGE...): nowhere, counted.
		// An AVC of a syscall event is counted here too.
		r.Stats.count(rec.typ)
		return
	}
	key := eventKey{rec.node[:min(len(rec.node), maxNode)], rec.serial}
	ev := r.open[key]
	if rec.typ == "EOE" {
		if ev != nil {
			r.close(ev, emit)
		}
		return
	}
	if ev == nil {
		r.closeCompleteBefore(key, emit)
		r.compact()
		if len(r.order) >= r.cfg.MaxOpen {
			r.Stats.ClosedByBound++
			r.closeOldest(emit)
		}
		key.node = clipNode(key.node) // copied out of the line: it outlives it
		ev = &event{key: key, first: now}
		r.open[key] = ev
		r.order = append(r.order, key)
	}
	if len(ev.records) < 4*maxItems {
		ev.records = append(ev.records, recordType(rec.typ))
	}
	if rec.time != 0 {
		ev.time = rec.time
	}
	switch rec.typ {
	case "SYSCALL":
		ev.hasCall = true
		ev.call = intern(syscallOf(rec))
		ev.fill(rec)
	case "URINGOP":
		ev.hasCall, ev.uring = true, true
		op := rec.str("uring_op")
		if name, ok := uringOps[op]; ok {
			ev.call = name
		} else if op != "" && (op[0] < '0' || op[0] > '9') {
			ev.call = intern(op) // ausearch -i names it
		}
		ev.fill(rec)
	case "CWD":
		if f, ok := rec.get("cwd"); ok {
			ev.cwd, _ = untrusted(f, rec.interpreted)
			ev.cwd = clip(ev.cwd)
		}
	case "PATH":
		if len(ev.paths) >= maxItems {
			return
		}
		f, _ := rec.get("name")
		name, ok := untrusted(f, rec.interpreted)
		if !ok {
			name = ""
		}
		nt := rec.str("nametype")
		if nt == "" {
			nt = rec.str("objtype") // RHEL 7 kernels
		}
		item, _ := strconv.Atoi(rec.str("item"))
		ev.paths = append(ev.paths, pathItem{item: item, name: clip(name), nametype: intern(nt)})
	case "SOCKADDR":
		v := rec.str("saddr")
		var ok bool
		if strings.HasPrefix(v, "{") {
			ev.saddr, ev.unix, ok = interpretedSockaddr(v)
		} else if ev.saddr, ev.unix, ok = sockaddr(v); !ok {
			ev.saddr, ev.unix, ok = interpretedSockaddr(rec.enrichedStr("SADDR"))
		}
		ev.saddr, ev.hasAddr = clip(ev.saddr), ok
	}
}

func (ev *event) fill(rec *record) {
	a0 := rec.str("a0")
	ev.dirfd, ev.socketConnect = relativeToDirfd(a0), socketcallConnect(a0)
	ev.items, _ = strconv.Atoi(rec.str("items"))
	ev.failed = rec.str("success") == "no"
	ev.pid, _ = strconv.ParseInt(rec.str("pid"), 10, 64)
	ev.ppid, _ = strconv.ParseInt(rec.str("ppid"), 10, 64)
	if f, ok := rec.get("exe"); ok {
		ev.exe, _ = untrusted(f, rec.interpreted)
		ev.exe = clip(ev.exe)
	}
}

// complete: every record the event announced has come.
func (ev *event) complete() bool {
	if !ev.hasCall {
		return false
	}
	paths := 0
	for _, p := range ev.paths {
		if p.item >= 0 {
			paths++
		}
	}
	if paths < ev.items {
		return false
	}
	switch opOf(ev.call) {
	case opConnect:
		return ev.hasAddr
	case opSocketcall:
		return !ev.socketConnect || ev.hasAddr
	}
	return true
}

// closeCompleteBefore closes the complete events of node older than key:
// a new event of the node means the kernel has finished the earlier ones,
// so their records are all in unless a forwarder reordered them (then the
// incomplete ones wait for their EOE or the wait).
func (r *Reader) closeCompleteBefore(key eventKey, emit func(detect.Access)) {
	for i := len(r.order) - 1; i >= 0 && i >= len(r.order)-8; i-- {
		k := r.order[i]
		if k.node != key.node || k.serial >= key.serial {
			continue
		}
		if ev := r.open[k]; ev != nil && ev.complete() {
			r.close(ev, emit)
		}
	}
}

// Flush closes the events whose first record arrived Wait or more before
// now.
func (r *Reader) Flush(now int64, emit func(detect.Access)) {
	for len(r.order) > 0 {
		ev := r.open[r.order[0]]
		if ev == nil {
			r.order = r.order[1:]
			continue
		}
		if now-ev.first < int64(r.cfg.Wait) {
			break
		}
		r.Stats.ClosedByWait++
		r.close(ev, emit)
		r.order = r.order[1:]
	}
	r.compact()
}

// Close closes every open event (shutdown, tests).
func (r *Reader) Close(emit func(detect.Access)) { r.closeAll(emit) }

func (r *Reader) closeAll(emit func(detect.Access)) {
	for _, k := range r.order {
		if ev := r.open[k]; ev != nil {
			r.close(ev, emit)
		}
	}
	r.order = r.order[:0]
}

func (r *Reader) closeOldest(emit func(detect.Access)) {
	for len(r.order) > 0 {
		k := r.order[0]
		r.order = r.order[1:]
		if ev := r.open[k]; ev != nil {
			r.close(ev, emit)
			return
		}
	}
}

// compact drops closed keys from the order once they are most of it.
func (r *Reader) compact() {
	if len(r.order) < 64 || len(r.order) < 2*len(r.open) {
		return
	}
	n := 0
	for _, k := range r.order {
		if _, ok := r.open[k]; ok {
			r.order[n] = k
			n++
		}
	}
	r.order = r.order[:n]
}

// Open is how many events wait for records.
func (r *Reader) Open() int { return len(r.open) }

func (r *Reader) close(ev *event, emit func(detect.Access)) {
	delete(r.open, ev.key)
	if !ev.hasCall {
		r.Stats.Orphans++
		r.Stats.countAll(ev.records)
		return
	}
	o := opOf(ev.call)
	if o == opSocketcall {
		if !ev.socketConnect {
			o = opOther
		} else {
			o = opConnect
		}
	}
	a := detect.Access{Host: ev.key.node, PID: ev.pid, PPID: ev.ppid, Exe: ev.exe, Time: ev.time, Syscall: ev.call,
		Failed: ev.failed, Source: "auditd", Arrived: ev.first}
	if ev.uring {
		a.Syscall = "io_uring:" + ev.call
	}
	n := r.Stats.Accesses
	switch o {
	case opOpen:
		r.emitPaths(ev, a, false, emit)
	case opExec:
		r.emitPaths(ev, a, true, emit)
	case opConnect:
		if ev.hasAddr {
			a.Target = ev.saddr
			a.Net = !ev.unix // a unix socket is a file
			if ev.unix && !strings.HasPrefix(a.Target, "/") && !strings.HasPrefix(a.Target, "@") {
				if ev.cwd != "" {
					a.Target = path.Join(ev.cwd, a.Target)
				} else {
					a.Unresolved = true
				}
			}
			r.Stats.Accesses++
			emit(a)
		}
	}
	if r.Stats.Accesses == n {
		r.Stats.countAll(ev.records)
	}
}

// emitPaths yields the names an open or exec touched: every PATH record
// but the parent directories (nametype=PARENT; objtype=PARENT on RHEL 7)
// and the removed names; for an exec, the program only (item 0; the
// others are its interpreter and loader).
func (r *Reader) emitPaths(ev *event, a detect.Access, exec bool, emit func(detect.Access)) {
	a.Exec = exec
	dirfd := (ev.call == "openat" || ev.call == "openat2" || ev.call == "execveat") && !ev.uring && ev.dirfd
	var seen [maxItems]string
	n := 0
	for _, p := range ev.paths {
		if p.name == "" || strings.EqualFold(p.nametype, "PARENT") || strings.EqualFold(p.nametype, "DELETE") {
			continue
		}
		if exec && p.item != 0 {
			continue
		}
		t := p.name
		b := a
		if !strings.HasPrefix(t, "/") {
			switch {
			case dirfd || ev.cwd == "":
				b.Unresolved = true
			default:
				t = path.Join(ev.cwd, t)
			}
		}
		dup := false
		for _, s := range seen[:n] {
			dup = dup || s == t
		}
		if dup {
			continue
		}
		seen[n] = t
		n++
		b.Target = t
		r.Stats.Accesses++
		emit(b)
	}
	// An exec whose PATH records are lost: the new program is the exe
	// the SYSCALL record names (after a successful execve it is the
	// program run).
	if exec && n == 0 && ev.exe != "" && !ev.failed {
		a.Target = ev.exe
		r.Stats.Accesses++
		emit(a)
	}
}

// clip bounds a value kept in an open event and copies it out of its
// line: a substring would keep the whole line (up to file_log's 1 MiB)
// alive while the event waits.
func clip(s string) string {
	if len(s) > maxValue {
		s = s[:maxValue]
	}
	return strings.Clone(s)
}

// maxNode bytes of a node name are kept (a host name has at most 253).
const maxNode = 255

func clipNode(s string) string {
	return strings.Clone(s[:min(len(s), maxNode)])
}

// recordType returns the type of a record the reader keeps as a constant
// (the switch in Record admits only these).
func recordType(t string) string {
	for _, k := range keptTypes {
		if k == t {
			return k
		}
	}
	return clip(t)
}

var keptTypes = [...]string{"SYSCALL", "URINGOP", "CWD", "PATH", "SOCKADDR", "EOE", "PROCTITLE", "EXECVE", "SOCKETCALL"}

// intern returns a syscall name or nametype as a constant where it is a
// common one (no copy per record), else a bounded copy.
func intern(s string) string {
	if k, ok := internTable[s]; ok {
		return k
	}
	return clip(s)
}

var internTable = map[string]string{
	"open": "open", "openat": "openat", "openat2": "openat2", "creat": "creat", "open_by_handle_at": "open_by_handle_at",
	"connect": "connect", "execve": "execve", "execveat": "execveat", "socketcall": "socketcall",
	"NORMAL": "NORMAL", "PARENT": "PARENT", "CREATE": "CREATE", "DELETE": "DELETE", "UNKNOWN": "UNKNOWN",
}
