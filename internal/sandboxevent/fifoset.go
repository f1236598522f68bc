package sandboxevent

// fifoSet is a set of uint64 that forgets its oldest member beyond max:
// the members in a ring, in insertion order, and an open-addressing table
// (linear probing) to find them. A removal shifts the rest of its probe
// chain back instead of leaving a tombstone, so probes stay short however
// long the set churns. The runtime's map did not: with a delete for every
// insert once full, its probes grew long (maps.ctrlGroup.matchH2 was 6% of
// the collector's CPU on the agent mix, under CallDeduper.Repeat).
type fifoSet struct {
	slots []uint64 // 0 = empty; see zero
	shift uint     // 64 - log2(len(slots))
	count int      // members in slots
	zero  bool     // 0 is a member (a slot cannot hold it)
	ring  []uint64
	next  int
	max   int
}

// minSlots is the table a new set starts with; it doubles while more than
// half full, so it ends below 4*max slots (8 bytes each).
const minSlots = 1024

func newFIFOSet(max int) fifoSet {
	s := fifoSet{max: max}
	s.resize(minSlots)
	return s
}

func (s *fifoSet) resize(n int) {
	old := s.slots
	s.slots = make([]uint64, n)
	s.shift = 64
	for m := n; m > 1; m >>= 1 {
		s.shift--
	}
	s.count = 0
	for _, v := range old {
		if v != 0 {
			s.insert(v)
		}
	}
}

// home is v's first slot (Fibonacci hashing: span IDs and hashes are
// random already, but a sender picks span IDs).
func (s *fifoSet) home(v uint64) uint64 { return (v * 0x9E3779B97F4A7C15) >> s.shift }

func (s *fifoSet) mask() uint64 { return uint64(len(s.slots) - 1) }

// find returns v's slot and whether it is there (else the empty slot where
// it would go).
func (s *fifoSet) find(v uint64) (uint64, bool) {
	m := s.mask()
	for i := s.home(v); ; i = (i + 1) & m {
		switch s.slots[i] {
		case v:
			return i, true
		case 0:
			return i, false
		}
	}
}

func (s *fifoSet) has(v uint64) bool {
	if v == 0 {
		return s.zero
	}
	_, ok := s.find(v)
	return ok
}

func (s *fifoSet) insert(v uint64) {
	i, _ := s.find(v)
	s.slots[i] = v
	s.count++
}

// remove deletes v, shifting back the members after it that would no
// longer be found.
func (s *fifoSet) remove(v uint64) {
	if v == 0 {
		s.zero = false
		return
	}
	i, ok := s.find(v)
	if !ok {
		return
	}
	m := s.mask()
	for j := (i + 1) & m; s.slots[j] != 0; j = (j + 1) & m {
		k := s.home(s.slots[j])
		// slots[j] stays when its home lies cyclically in (i, j].
		if (i < j && i < k && k <= j) || (i > j && (i < k || k <= j)) {
			continue
		}
		s.slots[i] = s.slots[j]
		i = j
	}
	s.slots[i] = 0
	s.count--
}

// add inserts v; false when it was already there.
func (s *fifoSet) add(v uint64) bool {
	if s.has(v) {
		return false
	}
	if len(s.ring) < s.max {
		s.ring = append(s.ring, v)
	} else {
		s.remove(s.ring[s.next])
		s.ring[s.next] = v
		s.next = (s.next + 1) % s.max
	}
	if v == 0 {
		s.zero = true
		return true
	}
	if 2*(s.count+1) > len(s.slots) {
		s.resize(2 * len(s.slots)) // count <= max: below 4*max slots
	}
	s.insert(v)
	return true
}
