package profile

// Read is one remembered read: of a sensitive path, or of a path template
// the extension never used before.
type Read struct {
	Target   string
	TraceID  [16]byte
	SpanID   [8]byte
	Time     int64 // unix ns
	Reported bool  // already named by an exfiltration anomaly
}

// Reads is a bounded memory of an extension's recent reads: at most Cap
// entries, the oldest overwritten first. Memory is the cap times one
// Read (about 64 bytes and the clipped target).
type Reads struct {
	ring []Read
	next int
}

// Add remembers r (target copied), forgetting the oldest beyond max.
func (m *Reads) Add(r Read, max int) {
	r.Target = clone(r.Target)
	if len(m.ring) < max {
		m.ring = append(m.ring, r)
		return
	}
	if max <= 0 {
		return
	}
	if len(m.ring) > max { // the cap shrank
		m.ring, m.next = m.ring[len(m.ring)-max:], 0
	}
	m.ring[m.next%max] = r
	m.next = (m.next + 1) % max
}

// Len is the number of reads held.
func (m *Reads) Len() int { return len(m.ring) }

// Latest returns the most recent unreported read of another trace at or
// after since, or nil.
func (m *Reads) Latest(trace [16]byte, since int64) *Read {
	var best *Read
	for i := range m.ring {
		r := &m.ring[i]
		if r.Reported || r.TraceID == trace || r.Time < since {
			continue
		}
		if best == nil || r.Time > best.Time {
			best = r
		}
	}
	return best
}
