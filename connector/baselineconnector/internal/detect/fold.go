package detect

// DefaultMaxFolded is how many traces of folded repeats a dedup summary
// lists by default.
const DefaultMaxFolded = 32

func (e *Engine) maxFolded() int {
	if e.s.MaxFolded > 0 {
		return e.s.MaxFolded
	}
	return DefaultMaxFolded
}

// fold remembers the trace of a suppressed occurrence, so the summary
// names every attack trace dedup kept quiet (up to max; beyond, counted).
// Occurrences without a trace (audit records) are only counted.
func (d *dedupEntry) fold(a Anomaly, max int) {
	if a.TraceID == ([16]byte{}) {
		return
	}
	for _, f := range d.folded { // one trace folded twice is listed once
		if f.TraceID == a.TraceID {
			return
		}
	}
	if len(d.folded) >= max {
		d.unlisted++
		return
	}
	d.folded = append(d.folded, TraceRef{TraceID: a.TraceID, SpanID: a.SpanID})
}

// summary is the record of the occurrences suppressed since the last
// report: the latest one, with their count and every folded trace. It
// resets the fold.
func (d *dedupEntry) summary(now int64) Anomaly {
	r := d.latest
	r.Count, r.Repeat, r.Time = d.suppressed, true, now
	r.Folded, r.FoldedUnlisted = d.folded, d.unlisted
	d.folded, d.unlisted = nil, 0
	return r
}
