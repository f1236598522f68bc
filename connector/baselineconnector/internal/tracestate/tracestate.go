// Package tracestate keeps per-trace state for the baseline connector:
// one Invocation per (trace, extension), aggregated as spans arrive in any
// order and over time, bounded in count and in lifetime.
package tracestate

// MaxInvocationsPerTrace bounds how many extensions one trace may hold.
const MaxInvocationsPerTrace = 16

// Invocation aggregates an extension's work within one trace.
type Invocation struct {
	Ext     string // owned copy of the extension id
	TraceID [16]byte
	Counts  [8]uint32
	Spans   uint32
	Probes  uint32
	Errors  uint32
	Denials uint32
	// EgressBytes sent (egress_volume).
	EgressBytes int64
	MinStart    int64
	MaxEnd      int64
	FirstSpan   [8]byte
	RootSpan    [8]byte
	RootSeen    bool
	// Done: the invocation was judged (root seen or idle); later spans
	// still feed per-span detectors but not the per-invocation statistics.
	Done bool
	// BeganLearning: the extension was still learning when the invocation's
	// first span or record arrived, at Began. Its later records are learned
	// too (the caller bounds for how long), though its extension has
	// learned since: an invocation's log records travel apart from its
	// spans (another Kafka topic, another batch) and may arrive after the
	// root span that completed the extension's learning.
	BeganLearning bool
	Began         int64
	// Exfiltration state: a read and an egress outside the profile.
	Read       bool
	ReadTarget string
	Egress     bool
	EgressHost string
	EgressOp   string
	EgressSpan [8]byte
	// Reported flags stop one invocation raising the same anomaly twice.
	ExfilReported bool
	ReconReported bool
	LastSeen      int64
	// Agent: an MCP server's (or tool set's) calls within an agent's trace,
	// whose time range is the agent's think time between them, not the
	// server's work: its duration is not judged.
	Agent bool
}

// Observe widens the invocation's time range with one span.
func (inv *Invocation) Observe(start, end int64) {
	if start > 0 && (inv.MinStart == 0 || start < inv.MinStart) {
		inv.MinStart = start
	}
	if end > inv.MaxEnd {
		inv.MaxEnd = end
	}
}

// DurationMillis is the invocation's span from first start to last end.
func (inv *Invocation) DurationMillis() float64 {
	if inv.MinStart == 0 || inv.MaxEnd <= inv.MinStart {
		return 0
	}
	return float64(inv.MaxEnd-inv.MinStart) / 1e6
}

// trace holds its first invocation inline: almost every trace is one
// extension's, so that is one allocation per trace.
type trace struct {
	first    Invocation
	more     []*Invocation
	lastSeen int64
}

func (tr *trace) each(fn func(*Invocation)) {
	fn(&tr.first)
	for _, inv := range tr.more {
		fn(inv)
	}
}

// Table holds at most Max traces.
type Table struct {
	m   map[[16]byte]*trace
	max int
	// Dropped counts invocations not tracked because the table was full.
	Dropped uint64
}

// New returns a table holding at most max traces.
func New(max int) *Table {
	return &Table{m: make(map[[16]byte]*trace), max: max}
}

// Len is the number of traces held.
func (t *Table) Len() int { return len(t.m) }

// Get returns the invocation of ext in trace id, creating it (learning
// tells whether ext is learning now); nil when the table or the trace is
// full (counted in Dropped). ext is kept as given: pass a string the
// caller owns (not pdata memory).
func (t *Table) Get(id [16]byte, ext string, now int64, learning bool) *Invocation {
	tr := t.m[id]
	if tr == nil {
		if len(t.m) >= t.max {
			t.Dropped++
			return nil
		}
		tr = &trace{first: Invocation{Ext: ext, TraceID: id, LastSeen: now, Began: now, BeganLearning: learning}, lastSeen: now}
		t.m[id] = tr
		return &tr.first
	}
	tr.lastSeen = now
	if tr.first.Ext == ext {
		tr.first.LastSeen = now
		return &tr.first
	}
	for _, inv := range tr.more {
		if inv.Ext == ext {
			inv.LastSeen = now
			return inv
		}
	}
	if len(tr.more)+1 >= MaxInvocationsPerTrace {
		t.Dropped++
		return nil
	}
	inv := &Invocation{Ext: ext, TraceID: id, LastSeen: now, Began: now, BeganLearning: learning}
	tr.more = append(tr.more, inv)
	return inv
}

// Sweep judges invocations idle for at least idle (calling finalize once
// each) and forgets traces unseen for at least ttl.
func (t *Table) Sweep(now, idle, ttl int64, finalize func(*Invocation)) {
	for id, tr := range t.m {
		expired := now-tr.lastSeen >= ttl
		tr.each(func(inv *Invocation) {
			if !inv.Done && (expired || now-inv.LastSeen >= idle) {
				inv.Done = true
				finalize(inv)
			}
		})
		if expired {
			delete(t.m, id)
		}
	}
}

// Range calls fn for every invocation (tests and shutdown).
func (t *Table) Range(fn func(*Invocation)) {
	for _, tr := range t.m {
		tr.each(fn)
	}
}
