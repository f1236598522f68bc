// Package profile holds the bounded, per-extension behaviour profile the
// baseline connector learns: sets of targets (hosts, path templates,
// tables, capabilities, libraries) and robust per-invocation statistics.
// It is pure: no pdata, no collector plumbing.
package profile

import "github.com/cespare/xxhash/v2"

// MaxNameLen bounds a stored target name: a hostile 1 MiB path must not
// grow a profile by 1 MiB.
const MaxNameLen = 256

// bloomWords is the size of the overflow summary: 4096 bits (512 bytes),
// about 1% false positives at 300 overflowed targets with three hashes.
const bloomWords = 64

// Hash is the stable hash a Set is keyed by (stable across restarts, so
// persisted bloom bits stay valid).
func Hash(s string) uint64 { return xxhash.Sum64String(s) }

// Set is a bounded set of target names: exact up to a cap, then a Bloom
// filter that remembers membership compactly (false positives make the
// detector quieter, never noisier) and a counter of what overflowed.
type Set struct {
	idx      map[uint64]struct{}
	names    []string
	bloom    []uint64
	overflow uint64
}

// Contains reports whether h (Hash of the name) was added.
func (s *Set) Contains(h uint64) bool {
	if _, ok := s.idx[h]; ok {
		return true
	}
	return s.bloom != nil && bloomHas(s.bloom, h)
}

// Add inserts name (hash h) keeping at most limit exact names; it reports
// whether the name was new. The name is copied, so it may alias pdata.
func (s *Set) Add(h uint64, name string, limit int) bool {
	if s.Contains(h) {
		return false
	}
	if len(s.names) < limit {
		if s.idx == nil {
			s.idx = make(map[uint64]struct{}, 4)
		}
		s.idx[h] = struct{}{}
		if len(name) > MaxNameLen {
			name = name[:MaxNameLen]
		}
		s.names = append(s.names, clone(name))
		return true
	}
	if s.bloom == nil {
		s.bloom = make([]uint64, bloomWords)
	}
	bloomAdd(s.bloom, h)
	s.overflow++
	return true
}

// Len is the number of exact names held.
func (s *Set) Len() int { return len(s.names) }

// Overflow is how many names went to the summary beyond the cap.
func (s *Set) Overflow() uint64 { return s.overflow }

// Names returns the exact names (do not modify).
func (s *Set) Names() []string { return s.names }

// Bloom returns the overflow summary bits (nil when nothing overflowed).
func (s *Set) Bloom() []uint64 { return s.bloom }

// Restore rebuilds a set from persisted state.
func (s *Set) Restore(names []string, bloom []uint64, overflow uint64, limit int) {
	*s = Set{}
	for _, n := range names {
		s.Add(Hash(n), n, limit)
	}
	if len(bloom) == bloomWords {
		if s.bloom == nil {
			s.bloom = make([]uint64, bloomWords)
		}
		for i, w := range bloom {
			s.bloom[i] |= w
		}
	}
	s.overflow += overflow
}

func bloomBits(h uint64) (uint32, uint32, uint32) {
	const n = bloomWords * 64
	h1, h2 := uint32(h), uint32(h>>32)
	return h1 % n, (h1 + h2) % n, (h1 + 2*h2 + 1) % n
}

func bloomAdd(b []uint64, h uint64) {
	x, y, z := bloomBits(h)
	b[x/64] |= 1 << (x % 64)
	b[y/64] |= 1 << (y % 64)
	b[z/64] |= 1 << (z % 64)
}

func bloomHas(b []uint64, h uint64) bool {
	x, y, z := bloomBits(h)
	return b[x/64]&(1<<(x%64)) != 0 && b[y/64]&(1<<(y%64)) != 0 && b[z/64]&(1<<(z%64)) != 0
}

// clone copies s so a stored name never pins a pdata buffer.
func clone(s string) string { return string(append([]byte(nil), s...)) }
