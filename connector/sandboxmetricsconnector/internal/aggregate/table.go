// Package aggregate is the pure core of the sandbox_metrics connector: it
// turns classified sandbox events into bounded sets of counter and
// histogram series and writes them out as pdata metrics. It knows nothing
// of the collector pipeline, so it is tested and benchmarked on its own.
package aggregate

import (
	"hash/maphash"
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// maxLabels is the most attributes a series of this package carries.
const maxLabels = 4

// Labels is a series' attribute values, in the order of its metric's label
// names. Values may alias pdata memory: the table copies them only when it
// creates a series.
type Labels [maxLabels]string

// Exemplar links a measurement to the span (or log record) it came from.
type Exemplar struct {
	TraceID pcommon.TraceID
	SpanID  pcommon.SpanID
	Value   float64
	Time    pcommon.Timestamp
}

// series is one attribute combination of one metric.
type series struct {
	labels Labels
	hash   uint64
	next   *series  // hash collision chain (distinct labels, same hash)
	slot   **series // the extension entry slot pointing here, cleared on removal

	start    int64 // unix nanos: creation (cumulative) or last reset (delta)
	lastSeen int64 // unix nanos of the last update, for idle expiry
	dirty    bool  // updated since the last flush

	count    uint64
	sum      float64
	min, max float64
	buckets  []uint64 // histogram only: len(bounds)+1

	exemplars []Exemplar // fixed capacity, ring buffer
	exN       int        // exemplars held (≤ cap)
	exNext    int        // next slot to overwrite
}

// table holds the series of one metric under a hard cap. Series are keyed
// by a hash of their label values; a hit is confirmed by comparing the
// labels (no string is built or copied on the hot path).
type table struct {
	seed       maphash.Seed
	nlabels    int
	maxSeries  int
	maxLabel   int
	maxEx      int
	nbuckets   int
	byHash     map[uint64]*series
	size       int
	last       *series // last hit: consecutive spans of one invocation often share a series
	overflow   *series // created on first fold; never counted against the cap
	overflowed uint64  // measurements folded into overflow since the last Stats
}

func newTable(seed maphash.Seed, nlabels, maxSeries, maxLabel, maxEx, nbuckets int) *table {
	return &table{
		seed: seed, nlabels: nlabels, maxSeries: maxSeries, maxLabel: maxLabel,
		maxEx: maxEx, nbuckets: nbuckets, byHash: make(map[uint64]*series, 64),
	}
}

// hashLabels mixes the per-label hashes; the length in the mix keeps
// ("ab","c") and ("a","bc") apart. h0 is the hash of l[0] (the extension),
// computed once per event by the caller and shared by every table.
func (t *table) hashLabels(l *Labels, h0 uint64) uint64 {
	h := uint64(14695981039346656037) ^ h0
	h *= 1099511628211
	h = h<<31 | h>>33
	for i := 1; i < t.nlabels; i++ {
		h ^= maphash.String(t.seed, l[i]) + uint64(len(l[i]))
		h *= 1099511628211
		h = h<<31 | h>>33
	}
	return h
}

func (t *table) hashFirst(l *Labels) uint64 {
	return maphash.String(t.seed, l[0]) + uint64(len(l[0]))
}

func (t *table) find(h uint64, l *Labels) *series {
	for s := t.byHash[h]; s != nil; s = s.next {
		if s.labels == *l {
			return s
		}
	}
	return nil
}

// get returns the series for l, creating it when the cap allows, or the
// overflow series. h0 is hashFirst of l (after truncation); now is the
// ingestion time in unix nanos.
func (t *table) get(l *Labels, h0 uint64, now int64) *series {
	if s := t.last; s != nil && s.labels == *l {
		return s
	}
	for i := 1; i < t.nlabels; i++ {
		if len(l[i]) > t.maxLabel {
			l[i] = truncate(l[i], t.maxLabel)
		}
	}
	h := t.hashLabels(l, h0)
	if s := t.find(h, l); s != nil {
		t.last = s
		return s
	}
	// Miss: the slow path. Label values that are not valid UTF-8 are
	// repaired first, so that two raw values that repair to the same
	// label share one series instead of emitting duplicates.
	for i := 0; i < t.nlabels; i++ {
		if !utf8.ValidString(l[i]) {
			var fixed Labels
			for j := 0; j < t.nlabels; j++ {
				fixed[j] = strings.ToValidUTF8(l[j], "\uFFFD")
			}
			*l = fixed
			h = t.hashLabels(l, t.hashFirst(l))
			if s := t.find(h, l); s != nil {
				return s
			}
			break
		}
	}
	if t.size >= t.maxSeries {
		t.overflowed++
		if t.overflow == nil {
			t.overflow = t.newSeries(Labels{}, 0, now)
		}
		return t.overflow
	}
	var owned Labels
	for i := 0; i < t.nlabels; i++ {
		owned[i] = strings.Clone(l[i])
	}
	s := t.newSeries(owned, h, now)
	s.next = t.byHash[h]
	t.byHash[h] = s
	t.size++
	t.last = s
	return s
}

func (t *table) newSeries(l Labels, h uint64, now int64) *series {
	s := &series{labels: l, hash: h, start: now, lastSeen: now}
	if t.nbuckets > 0 {
		s.buckets = make([]uint64, t.nbuckets)
	}
	if t.maxEx > 0 {
		s.exemplars = make([]Exemplar, t.maxEx)
	}
	return s
}

// remove unlinks s from its hash chain.
func (t *table) remove(s *series) {
	if t.last == s {
		t.last = nil
	}
	if s.slot != nil {
		*s.slot = nil
		s.slot = nil
	}
	head := t.byHash[s.hash]
	if head == s {
		if s.next == nil {
			delete(t.byHash, s.hash)
		} else {
			t.byHash[s.hash] = s.next
		}
	} else {
		for p := head; p != nil; p = p.next {
			if p.next == s {
				p.next = s.next
				break
			}
		}
	}
	t.size--
}

// addExemplar keeps the latest maxEx exemplars of the interval.
func (s *series) addExemplar(ex *Exemplar) {
	if len(s.exemplars) == 0 || ex == nil {
		return
	}
	s.exemplars[s.exNext] = *ex
	s.exNext = (s.exNext + 1) % len(s.exemplars)
	if s.exN < len(s.exemplars) {
		s.exN++
	}
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
