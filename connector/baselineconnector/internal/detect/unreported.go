package detect

import (
	"path"
	"strings"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/profile"
)

// UnreportedDetector cross-checks what the sandbox reports against the
// kernel's record (auditd, Falco): a file open or a connect by a sandbox
// host process, during one of its invocations, that no span reports and
// that touches the sensitive set or lies outside the extension's profile.
// The host process's own steady accesses (seen outside invocations) are
// learned as its background and do not fire.
type UnreportedDetector struct {
	Enabled  bool     `mapstructure:"enabled"`
	Severity Severity `mapstructure:"severity"`
	// Slack widens each invocation's span time range on both sides (clock
	// granularity of the audit record, work before the root span starts).
	Slack time.Duration `mapstructure:"slack"`
	// Delay before an audit record is judged, so spans that arrive after
	// it (another pipeline, a batch) are seen first.
	Delay time.Duration `mapstructure:"delay"`
	// Steady: sightings outside invocations before a sensitive access is
	// the host's background (a non-sensitive one needs one).
	Steady uint32 `mapstructure:"steady"`
	// Bounds: sandbox host processes tracked, audit records waiting.
	MaxProcesses int `mapstructure:"max_processes"`
	MaxPending   int `mapstructure:"max_pending"`
	// EventWait closes an auditd event whose EOE never comes (auditd's
	// log file has none) this long after its first record;
	// MaxOpenEvents bounds the events waiting for their records.
	EventWait     time.Duration `mapstructure:"event_wait"`
	MaxOpenEvents int           `mapstructure:"max_open_events"`
	// MaxCandidates: invocations named when several of the process
	// overlap a record (each with its trace id).
	MaxCandidates int `mapstructure:"max_candidates"`
}

// DefaultUnreported is on: it does nothing until audit records arrive.
func DefaultUnreported() UnreportedDetector {
	// Delay 10s: an SDK's batch span processor exports every 5s by
	// default, so a span may trail the kernel's record by that much.
	return UnreportedDetector{Enabled: true, Severity: SeverityCritical, Slack: time.Second, Delay: 10 * time.Second,
		Steady: 3, MaxProcesses: 1024, MaxPending: 10000, EventWait: 2 * time.Second, MaxOpenEvents: 4096, MaxCandidates: 8}
}

func (u UnreportedDetector) check(name string) error {
	return checkFields(name, u.Severity,
		field{"slack", u.Slack >= 0 && u.Slack <= time.Minute, "between 0 and 1m", u.Slack},
		field{"delay", u.Delay >= 0 && u.Delay <= 5*time.Minute, "between 0 and 5m", u.Delay},
		field{"steady", u.Steady >= 1, "at least 1", u.Steady},
		field{"max_processes", u.MaxProcesses >= 1, "at least 1", u.MaxProcesses},
		field{"max_pending", u.MaxPending >= 1, "at least 1", u.MaxPending},
		field{"event_wait", u.EventWait >= 10*time.Millisecond && u.EventWait <= time.Minute, "between 10ms and 1m", u.EventWait},
		field{"max_open_events", u.MaxOpenEvents >= 1, "at least 1", u.MaxOpenEvents},
		field{"max_candidates", u.MaxCandidates >= 1 && u.MaxCandidates <= 64, "between 1 and 64", u.MaxCandidates},
	)
}

// Access is one file open, exec or connect from the kernel's record.
type Access struct {
	Host      string
	PID, PPID int64
	// TID is the thread that made the call, where the source records it
	// (Falco thread.tid, Tetragon process.tid; auditd logs only the
	// process), else 0.
	TID  int64
	Exe  string
	Time int64 // unix ns, event time
	Net  bool  // a connect (Target is an address), else a file open
	// Exec: an execve of Target (a file; judged against the sensitive
	// set only: spans name commands, not the binaries behind them).
	Exec bool
	// Unresolved: Target is a name relative to a directory descriptor
	// the record does not resolve (openat with a dirfd other than
	// AT_FDCWD); it is judged as "…/"+name against the sensitive set.
	Unresolved bool
	Target     string
	Syscall    string
	Failed     bool
	// ContainerID (Falco container.id, Tetragon pod.container.id) and
	// Rule (the Falco rule) serve records without a process id: stock
	// Falco rules do not output proc.pid.
	ContainerID string
	Rule        string
	// Source names the reader: auditd, falco, tetragon.
	Source string
	// Arrived: when the record's first line reached the collector (unix
	// ns; 0 for now). An auditd event is yielded when it closes, up to
	// event_wait later; the delay runs from its arrival.
	Arrived int64
}

// Process identifies a sandbox host process: the semantic-convention
// resource attributes host.name and process.pid of its spans.
type Process struct {
	Host string
	PID  int64
}

// Bounds of one process's state.
const (
	// 256 invocations cover the delay at up to 25 invocations a second per
	// process; beyond, an older invocation is forgotten and an access in it
	// counts as the host's background. About 18 KiB per process.
	maxProcInvocations = 256
	maxProcReported    = 1024
	maxBackground      = 512
	maxBackgroundExes  = 1024
)

type procInvocation struct {
	trace      [16]byte
	span       [8]byte
	ext        string
	start, end int64
	// threads: the thread.id its spans carried (a few; 0 is none).
	threads [maxThreads]int64
}

// maxThreads thread ids are kept per invocation.
const maxThreads = 4

func (iv *procInvocation) addThread(tid int64) {
	for i, t := range iv.threads {
		if t == tid {
			return
		}
		if t == 0 {
			iv.threads[i] = tid
			return
		}
	}
}

func (iv *procInvocation) ranOn(tid int64) bool {
	for _, t := range iv.threads {
		if t == tid {
			return true
		}
	}
	return false
}

type proc struct {
	host      string
	container string           // the resource's container.id, for records without a pid
	invs      []procInvocation // ring
	next      int
	last      int // index of the invocation widened last: a batch holds a trace's spans together
	// reported: hash of a raw target a span reported -> last event time
	// (hashes: raw paths are unique per read, and a copy of each would
	// cost an allocation per span); order is the ring that evicts them.
	reported map[uint64]int64
	order    []uint64
	oldest   int
}

type pendingAccess struct {
	a       Access
	arrived int64
}

// auditCheck is the state of unreported_access.
type auditCheck struct {
	d          UnreportedDetector
	procs      *simplelru.LRU[Process, *proc]
	pending    []pendingAccess
	background map[string]map[string]uint32 // host \x00 exe -> target template -> sightings
	// runtime: non-sensitive unreported accesses seen during invocations
	// of extensions still learning (the runtime's own module files), per
	// host executable; seen in two invocations, one is the runtime's own.
	runtime map[string]map[string]runtimeSighting
	// uncorrelatedRules: rules of pid-less records (stock Falco rules)
	// that matched no sandbox process, not yet logged.
	uncorrelatedRules []string
	loggedRules       map[string]bool
	// Counters.
	Dropped      uint64 // audit records not kept (pending full)
	Judged       uint64
	Uncorrelated uint64 // records without a pid that matched no sandbox process
}

func newAuditCheck(d UnreportedDetector) *auditCheck {
	if d.MaxProcesses <= 0 {
		d = DefaultUnreported()
	}
	lru, _ := simplelru.NewLRU[Process, *proc](d.MaxProcesses, nil)
	return &auditCheck{d: d, procs: lru, background: map[string]map[string]uint32{}, runtime: map[string]map[string]runtimeSighting{}, loggedRules: map[string]bool{}}
}

// ObserveProcess records that a span of extension ext in trace tid ran in
// process pr from start to end (unix ns), reporting target (raw; "" for
// none). Call it only for spans whose resource names their process.
func (e *Engine) ObserveProcess(pr Process, ext string, tid [16]byte, sid [8]byte, start, end int64, target string) {
	ac := e.audit
	if !e.s.Detectors.UnreportedAccess.Enabled || pr.PID == 0 {
		return
	}
	p, ok := ac.procs.Get(pr)
	if !ok {
		pr.Host = Clip(pr.Host)
		p = &proc{host: pr.Host, reported: map[uint64]int64{}}
		ac.procs.Add(pr, p)
	}
	if start == 0 {
		start = end
	}
	p.widen(e, ext, tid, sid, start, end)
	if target != "" {
		p.report(target, end)
	}
}

// report remembers that a span reported target at end, under its hash and,
// for an unclean absolute path (/app/./data//x), its cleaned form's too.
func (p *proc) report(target string, end int64) {
	p.reportHash(profile.Hash(target), end)
	if strings.HasPrefix(target, "/") {
		if c := path.Clean(target); c != target {
			p.reportHash(profile.Hash(c), end)
		}
	}
}

func (p *proc) reportHash(h uint64, end int64) {
	if _, seen := p.reported[h]; !seen {
		if len(p.order) < maxProcReported {
			p.order = append(p.order, h)
		} else {
			delete(p.reported, p.order[p.oldest])
			p.order[p.oldest] = h
			p.oldest = (p.oldest + 1) % maxProcReported
		}
	}
	p.reported[h] = max(p.reported[h], end)
}

// reportedSince reports whether a span reported target (as recorded, or
// cleaned) at or after since.
func (p *proc) reportedSince(target string, since int64) bool {
	if t, ok := p.reported[profile.Hash(target)]; ok && t >= since {
		return true
	}
	if c := path.Clean(target); c != target && strings.HasPrefix(target, "/") {
		if t, ok := p.reported[profile.Hash(c)]; ok && t >= since {
			return true
		}
	}
	return false
}

func (p *proc) widen(e *Engine, ext string, tid [16]byte, sid [8]byte, start, end int64) {
	if p.last < len(p.invs) && p.invs[p.last].trace == tid {
		iv := &p.invs[p.last]
		iv.start, iv.end = min(iv.start, start), max(iv.end, end)
		return
	}
	for i := len(p.invs) - 1; i >= 0; i-- {
		iv := &p.invs[i]
		if iv.trace == tid {
			iv.start, iv.end = min(iv.start, start), max(iv.end, end)
			p.last = i
			return
		}
	}
	if pf, ok := e.profiles.Peek(ext); ok {
		ext = pf.ID // the profile's own copy: no allocation per invocation
	} else {
		ext = Clip(ext)
	}
	iv := procInvocation{trace: tid, span: sid, ext: ext, start: start, end: end}
	if len(p.invs) < maxProcInvocations {
		p.last = len(p.invs)
		p.invs = append(p.invs, iv)
		return
	}
	p.invs[p.next], p.last = iv, p.next
	p.next = (p.next + 1) % maxProcInvocations
}

// ObserveAccess queues one audit record; it is judged after the delay.
func (e *Engine) ObserveAccess(a Access, now int64) {
	ac := e.audit
	if !e.s.Detectors.UnreportedAccess.Enabled {
		return
	}
	if len(ac.pending) >= ac.d.MaxPending {
		ac.Dropped++
		return
	}
	a.Host, a.Exe, a.Target, a.Syscall = Clip(a.Host), Clip(a.Exe), Clip(a.Target), Clip(a.Syscall)
	arrived := now
	if a.Arrived != 0 && a.Arrived < now {
		arrived = a.Arrived
	}
	ac.pending = append(ac.pending, pendingAccess{a: a, arrived: arrived})
}

// JudgeAudit judges the queued audit records older than the delay; Tick
// does it too, the connector also after each batch of logs.
func (e *Engine) JudgeAudit(now int64) { e.judgeAccesses(now, false) }

// judgeAccesses judges the queued records older than the delay (all of
// them when force).
func (e *Engine) judgeAccesses(now int64, force bool) {
	ac := e.audit
	n := 0
	for n < len(ac.pending) && (force || now-ac.pending[n].arrived >= int64(ac.d.Delay)) {
		e.judgeAccess(&ac.pending[n].a, now)
		n++
	}
	if n > 0 {
		rest := copy(ac.pending, ac.pending[n:])
		clear(ac.pending[rest:])
		ac.pending = ac.pending[:rest]
	}
}

// learnBackground counts an access outside any invocation as the host
// process's own.
func (ac *auditCheck) learnBackground(key, target string) {
	m := ac.background[key]
	if m == nil {
		if len(ac.background) >= maxBackgroundExes {
			return
		}
		m = map[string]uint32{}
		ac.background[key] = m
	}
	if c, ok := m[target]; ok {
		if c < 1<<31 {
			m[target] = c + 1
		}
		return
	}
	if len(m) < maxBackground {
		m[target] = 1
	}
}

// AuditStats are the cross-check's counters and sizes.
type AuditStats struct {
	Processes, Pending            int
	Judged, Dropped, Uncorrelated uint64
}

// AuditStats reports the cross-check's state (metrics, tests).
func (e *Engine) AuditStats() AuditStats {
	ac := e.audit
	return AuditStats{Processes: ac.procs.Len(), Pending: len(ac.pending), Judged: ac.Judged, Dropped: ac.Dropped, Uncorrelated: ac.Uncorrelated}
}
