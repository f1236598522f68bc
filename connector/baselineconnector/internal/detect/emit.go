package detect

import (
	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/profile"
)

// Report emits an anomaly found outside the engine (user rules) through
// the same dedup; it fills the learning state from the profile.
func (e *Engine) Report(a Anomaly) {
	if p, ok := e.profiles.Peek(a.ExtensionID); ok {
		a.Learning = !p.Learned
	}
	e.emit(a)
}

// emit de-duplicates: the first occurrence of (extension, type, target)
// is reported at once; later ones within DedupInterval are counted and
// reported as one summary record when the interval ends.
func (e *Engine) emit(a Anomaly) {
	a.Count = 1
	if a.Agent == "" && e.cur.agent != nil {
		a.Agent, a.Session = e.cur.agent.Name, e.cur.session
	}
	if e.s.DedupInterval <= 0 {
		e.out = append(e.out, a)
		return
	}
	key := a.ExtensionID + "\x00" + a.Type + "\x00" + a.Rule + "\x00" + a.Target
	if d, ok := e.dedup[key]; ok {
		if a.Time-d.last < int64(e.s.DedupInterval) {
			d.suppressed++
			d.latest = a
			d.fold(a, e.maxFolded())
			e.C.Suppressed++
			return
		}
		// The interval ended before a tick flushed it: report what it
		// suppressed before the new occurrence, so no count is lost.
		if d.suppressed > 0 {
			e.out = append(e.out, d.summary(a.Time))
		}
		d.last, d.suppressed = a.Time, 0
		e.out = append(e.out, a)
		return
	}
	if len(e.dedup) >= e.s.MaxDedup {
		e.flushDedup(a.Time, false)
		if len(e.dedup) >= e.s.MaxDedup {
			// Still full of live entries: report without dedup rather than
			// lose the anomaly, and count it.
			e.C.DedupDropped++
			e.out = append(e.out, a)
			return
		}
	}
	e.dedup[key] = &dedupEntry{last: a.Time}
	e.out = append(e.out, a)
}

// flushDedup reports the suppressed count of every entry whose interval
// ended (or all, when force) and forgets quiet ones.
func (e *Engine) flushDedup(now int64, force bool) {
	for k, d := range e.dedup {
		if !force && now-d.last < int64(e.s.DedupInterval) {
			continue
		}
		if d.suppressed > 0 {
			e.out = append(e.out, d.summary(now))
			d.suppressed, d.last = 0, now
			continue
		}
		delete(e.dedup, k)
	}
}

// Stats summarise the profiles for metrics.
type Stats struct {
	Profiles  int
	Learning  int
	Detecting int
	Targets   [profile.NumClasses]int
	Overflow  [profile.NumClasses]uint64
	Traces    int
}

// Stats walks the profiles (call at metric intervals, not per span).
func (e *Engine) Stats() Stats {
	var s Stats
	for _, p := range e.profiles.Values() {
		s.Profiles++
		if p.Learned {
			s.Detecting++
		} else {
			s.Learning++
		}
		for c := range p.Sets {
			s.Targets[c] += p.Sets[c].Len()
			s.Overflow[c] += p.Sets[c].Overflow()
		}
	}
	s.Traces = e.traces.Len()
	return s
}

// Snapshot returns every profile's serialisable form, least recently
// used first.
func (e *Engine) Snapshot() []profile.Snapshot {
	out := make([]profile.Snapshot, 0, e.profiles.Len())
	for _, p := range e.profiles.Values() {
		out = append(out, p.Snapshot())
	}
	return out
}

// Restore loads persisted profiles (in order; beyond MaxExtensions the
// least recently used are evicted as usual).
func (e *Engine) Restore(snaps []profile.Snapshot) {
	for i := range snaps {
		p := profile.FromSnapshot(&snaps[i], e.s.Limits)
		if p.Learned && !snaps[i].ToolsKnown {
			// Saved before tool drift existed: learn its tools quietly
			// for as long as a new extension learns.
			p.Tools.Relearn = uint32(min(e.s.LearnInvocations, 1<<20))
		}
		e.attachDeclared(p)
		e.profiles.Add(p.ID, p)
	}
}

// Profile returns the profile of id (tests, inspection).
func (e *Engine) Profile(id string) (*profile.Profile, bool) { return e.profiles.Peek(id) }
