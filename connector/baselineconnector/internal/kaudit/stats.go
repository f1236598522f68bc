package kaudit

// maxTypes bounds the distinct record types counted; more fold into
// "other" (a sender controls the type word through log injection).
const maxTypes = 64

// Stats are a Reader's counters.
type Stats struct {
	// Records: audit records read. Accesses: opens, execs and connects
	// yielded.
	Records, Accesses uint64
	// Ignored counts, by record type, the records that yielded nothing:
	// types that are never an open or connect (USER_LOGIN, AVC, DAEMON_*,
	// TTY...), and the records of syscalls the cross-check does not read.
	// "unparsed" counts lines that look like audit records but have no
	// usable header.
	Ignored map[string]uint64
	// Orphans: events closed without their SYSCALL (a lost line).
	Orphans uint64
	// ClosedByWait / ClosedByBound: events closed without an EOE, after
	// the wait or to stay within MaxOpen.
	ClosedByWait, ClosedByBound uint64
}

func newStats() Stats { return Stats{Ignored: map[string]uint64{}} }

func (s *Stats) count(typ string) {
	if _, ok := s.Ignored[typ]; !ok && len(s.Ignored) >= maxTypes {
		typ = "other"
	}
	s.Ignored[typ]++
}

func (s *Stats) countAll(types []string) {
	for _, t := range types {
		s.count(t)
	}
}
