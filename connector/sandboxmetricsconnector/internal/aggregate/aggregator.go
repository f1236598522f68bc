package aggregate

import (
	"hash/maphash"
	"slices"
	"sort"
	"strings"

	"github.com/sandwatch/sandwatch/internal/sandboxevent"
)

// Config bounds and shapes the aggregation. The connector validates the
// user-facing configuration and fills this in.
type Config struct {
	// MaxSeries is the hard cap of series per metric; measurements of new
	// attribute combinations beyond it fold into one overflow series.
	MaxSeries int
	// MaxLabelLength truncates attribute values (bytes).
	MaxLabelLength int
	// MaxExemplars per data point and flush interval; 0 disables exemplars.
	MaxExemplars int
	// Delta selects delta temporality; cumulative otherwise.
	Delta bool
	// Expiry removes series not updated for this many nanoseconds; 0 never.
	Expiry int64
	// Bounds are the explicit histogram bucket bounds, in seconds, ascending.
	Bounds []float64
	// UnknownExtension is the extension label of events without an
	// extension id; empty drops those events (they are only counted).
	UnknownExtension string
	// TargetTypes enables sandbox.target.operations for these target
	// types; TopK caps its series.
	TargetTypes []sandboxevent.TargetType
	TopK        int
}

// Stats are the aggregator's own counters.
type Stats struct {
	Series       int    // live series over all metrics (overflow series included)
	Overflowed   uint64 // measurements folded into overflow series since the last Stats call
	Unattributed uint64 // events without an extension id since the last Stats call
}

// Aggregator accumulates series for every metric of Defs. It is not safe
// for concurrent use: the connector serialises access.
type Aggregator struct {
	cfg          Config
	seed         maphash.Seed
	tables       [NumMetrics]*table
	targetTypes  [8]bool
	lastFlush    int64
	unattributed uint64

	// Per-extension entries hold direct pointers to the extension's series
	// of the metrics whose other attributes are enums (kind, outcome,
	// status class), so a span costs one map lookup (its extension) instead
	// of one per metric. A series removed by expiry clears its slot.
	exts    map[uint64]*extEntry
	nExts   int
	maxExts int
	cur     *extEntry // the current event's entry; nil: no entry (cap)
}

// slotBase and slotCount lay out extEntry.slots per metric (-1: the
// metric has free-form attributes and is not slotted).
var (
	slotBase  = [NumMetrics]int{-1, -1, -1, -1, -1, -1, -1, -1, -1, -1}
	slotCount [NumMetrics]int
	numSlots  int
)

func init() {
	for _, m := range []struct {
		id MetricID
		n  int
	}{{Operations, 8 * 3}, {HTTPResponses, 6}, {Invocations, 3}, {Egress, 8}, {OperationDuration, 8}, {InvocationDuration, 3}, {EgressBytes, 8}} {
		slotBase[m.id], slotCount[m.id] = numSlots, m.n
		numSlots += m.n
	}
	if numSlots != maxSlots {
		panic("aggregate: maxSlots does not match the slot layout")
	}
}

const maxSlots = 60

type extEntry struct {
	ext   string
	h0    uint64
	next  *extEntry
	slots [maxSlots]*series
}

// EndBatch drops the cache's reference to the batch's memory (the cached
// extension string aliases pdata).
func (a *Aggregator) EndBatch() {
	a.cur = nil
}

// entry finds or creates the extension's entry; nil when the entry table
// is full (the events then take the per-metric lookup).
func (a *Aggregator) entry(ext string, h0 uint64) *extEntry {
	for e := a.exts[h0]; e != nil; e = e.next {
		if e.ext == ext {
			return e
		}
	}
	if a.nExts >= a.maxExts {
		return nil
	}
	e := &extEntry{ext: strings.Clone(ext), h0: h0, next: a.exts[h0]}
	a.exts[h0] = e
	a.nExts++
	return e
}

// dropIdleEntries removes entries none of whose slots holds a series.
func (a *Aggregator) dropIdleEntries() {
	for h, head := range a.exts {
		var keep *extEntry
		for e := head; e != nil; {
			next := e.next
			live := false
			for _, s := range e.slots {
				if s != nil {
					live = true
					break
				}
			}
			if live {
				e.next = keep
				keep = e
			} else {
				a.nExts--
			}
			e = next
		}
		if keep == nil {
			delete(a.exts, h)
		} else {
			a.exts[h] = keep
		}
	}
}

// New returns an aggregator; now is the start of the first interval.
func New(cfg Config, now int64) *Aggregator {
	if cfg.MaxLabelLength <= 0 {
		cfg.MaxLabelLength = 256
	}
	if !sort.Float64sAreSorted(cfg.Bounds) {
		b := append([]float64(nil), cfg.Bounds...)
		sort.Float64s(b)
		cfg.Bounds = b
	}
	seed := maphash.MakeSeed()
	a := &Aggregator{cfg: cfg, lastFlush: now, seed: seed, exts: make(map[uint64]*extEntry, 64), maxExts: 2 * cfg.MaxSeries}
	for id := MetricID(0); id < NumMetrics; id++ {
		d := Defs[id]
		max := cfg.MaxSeries
		if id == TargetOperations {
			max = cfg.TopK
		}
		nb := 0
		if d.Histogram {
			nb = len(cfg.Bounds) + 1
		}
		a.tables[id] = newTable(seed, len(d.Labels), max, cfg.MaxLabelLength, cfg.MaxExemplars, nb)
	}
	for _, tt := range cfg.TargetTypes {
		if int(tt) < len(a.targetTypes) {
			a.targetTypes[tt] = true
		}
	}
	return a
}

// Span is what the aggregator needs of a span besides its classification.
type Span struct {
	Root     bool    // no parent: the extension's invocation
	Duration float64 // seconds
	Exemplar Exemplar
}

// extension returns the event's extension label, truncated, and its hash
// (shared by every table: all tables use one seed).
func (a *Aggregator) extension(ev *sandboxevent.Event) (ext string, h0 uint64, ok bool) {
	ext = ev.ExtensionID
	if ext == "" {
		a.unattributed++
		if ext = a.cfg.UnknownExtension; ext == "" {
			return "", 0, false
		}
	}
	ext = truncate(ext, a.cfg.MaxLabelLength)
	h0 = maphash.String(a.seed, ext) + uint64(len(ext))
	if a.cur == nil || a.cur.ext != ext {
		a.cur = a.entry(ext, h0)
	}
	return ext, h0, true
}

// RecordSpan aggregates one classified span. now is the ingestion time.
func (a *Aggregator) RecordSpan(ev *sandboxevent.Event, sp *Span, now int64) {
	ext, h0, ok := a.extension(ev)
	if !ok {
		return
	}
	ex := &sp.Exemplar
	if ev.IsAgent() {
		a.recordAgent(ev, ext, h0, ex, sp, now)
		return
	}
	if sp.Root {
		outcome := ev.Outcome.String()
		a.count(Invocations, int(ev.Outcome), Labels{ext, outcome}, h0, ex, now)
		a.observe(InvocationDuration, int(ev.Outcome), Labels{ext, outcome}, sp.Duration, h0, ex, now)
		if ev.Kind == sandboxevent.KindOther && ev.Capability == "" && ev.Decision == "" {
			// A wrapper span (extension.invoke, plugin.execute) is the
			// invocation, not an operation of its own.
			return
		}
	}
	a.operation(ev, ext, h0, ex, now)
	a.observe(OperationDuration, int(ev.Kind), Labels{ext, ev.Kind.String()}, sp.Duration, h0, ex, now)
}

// RecordLog aggregates one classified log record. Only records that say
// something about a sandbox operation count (a kind other than "other", or
// a capability or decision); ex may be nil when the record has no trace.
func (a *Aggregator) RecordLog(ev *sandboxevent.Event, ex *Exemplar, now int64) {
	if ev.IsAgent() {
		if !sandboxevent.IsCall(ev) && ev.BlockType != sandboxevent.BlockTypeDecision {
			return // api_request, user_prompt...: not a tool's record
		}
		ext, h0, ok := a.extension(ev)
		if ok {
			a.recordAgent(ev, ext, h0, ex, nil, now)
		}
		return
	}
	if ev.Kind == sandboxevent.KindOther && ev.Capability == "" && ev.Decision == "" {
		return
	}
	ext, h0, ok := a.extension(ev)
	if !ok {
		return
	}
	a.operation(ev, ext, h0, ex, now)
}

func (a *Aggregator) operation(ev *sandboxevent.Event, ext string, h0 uint64, ex *Exemplar, now int64) {
	kind := ev.Kind.String()
	a.count(Operations, int(ev.Kind)*3+int(ev.Outcome), Labels{ext, kind, ev.Outcome.String()}, h0, ex, now)
	if ev.Outcome == sandboxevent.OutcomeError {
		a.count(Errors, -1, Labels{ext, kind, ev.ErrorClass()}, h0, ex, now)
	}
	if c := statusClass(ev.StatusCode); c != "" {
		a.count(HTTPResponses, int(ev.StatusCode/100), Labels{ext, c}, h0, ex, now)
	}
	if ev.Capability != "" || ev.Decision != "" {
		capability := ev.Capability
		if capability == "" {
			capability = kind // an allowlist or firewall decision on an http/net operation
		}
		decision := "allowed"
		if ev.Outcome == sandboxevent.OutcomeDenied {
			decision = "denied"
		}
		a.count(CapabilityDecisions, -1, Labels{ext, capability, decision}, h0, ex, now)
	}
	if ev.IsEgress() {
		a.count(Egress, int(ev.Kind), Labels{ext, kind}, h0, ex, now)
	}
	if ev.EgressBytes > 0 && ev.Outcome != sandboxevent.OutcomeDenied {
		a.add(EgressBytes, int(ev.Kind), Labels{ext, kind}, uint64(ev.EgressBytes), h0, ex, now)
	}
	if a.cfg.TopK > 0 && ev.Target != "" && int(ev.TargetType) < len(a.targetTypes) && a.targetTypes[ev.TargetType] {
		a.count(TargetOperations, -1, Labels{ext, ev.TargetType.String(), ev.Target}, h0, ex, now)
	}
}

var statusClasses = [...]string{"", "1xx", "2xx", "3xx", "4xx", "5xx"}

func statusClass(code int64) string {
	if code < 100 || code > 599 {
		return ""
	}
	return statusClasses[code/100]
}

// lookup returns the series of l in metric id. code identifies l among
// the current extension's series of id when every label but the extension
// is an enum (0 <= code < slotCount[id]); -1 for free-form attributes.
func (a *Aggregator) lookup(id MetricID, code int, l *Labels, h0 uint64, now int64) *series {
	t := a.tables[id]
	if code < 0 || code >= slotCount[id] || a.cur == nil {
		return t.get(l, h0, now)
	}
	p := &a.cur.slots[slotBase[id]+code]
	if *p != nil {
		return *p
	}
	s := t.get(l, h0, now)
	if s != t.overflow && s.slot == nil {
		*p, s.slot = s, p
	}
	return s
}

func (a *Aggregator) count(id MetricID, code int, l Labels, h0 uint64, ex *Exemplar, now int64) {
	a.add(id, code, l, 1, h0, ex, now)
}

// add increments a counter by n (a byte count; count is 1).
func (a *Aggregator) add(id MetricID, code int, l Labels, n uint64, h0 uint64, ex *Exemplar, now int64) {
	s := a.lookup(id, code, &l, h0, now)
	s.count += n
	s.lastSeen = now
	s.dirty = true
	if ex != nil && s.exemplars != nil {
		e := *ex
		e.Value = float64(n)
		s.addExemplar(&e)
	}
}

func (a *Aggregator) observe(id MetricID, code int, l Labels, v float64, h0 uint64, ex *Exemplar, now int64) {
	if !(v >= 0) || v > 1e12 { // NaN, negative (end before start) or absurd
		v = 0
	}
	s := a.lookup(id, code, &l, h0, now)
	if s.count == 0 || v < s.min {
		s.min = v
	}
	if s.count == 0 || v > s.max {
		s.max = v
	}
	s.count++
	s.sum += v
	i, _ := slices.BinarySearch(a.cfg.Bounds, v)
	s.buckets[i]++
	s.lastSeen = now
	s.dirty = true
	if ex != nil && s.exemplars != nil {
		e := *ex
		e.Value = v
		s.addExemplar(&e)
	}
}

// Stats reports the live series and the counters since the last call.
func (a *Aggregator) Stats() Stats {
	var st Stats
	for _, t := range a.tables {
		st.Series += t.size
		if t.overflow != nil {
			st.Series++
		}
		st.Overflowed += t.overflowed
		t.overflowed = 0
	}
	st.Unattributed = a.unattributed
	a.unattributed = 0
	return st
}
