package sandboxevent

import (
	"math/rand/v2"
	"testing"
)

// refFIFO is the obvious implementation the set must agree with.
type refFIFO struct {
	m    map[uint64]bool
	ring []uint64
	max  int
}

func (r *refFIFO) add(v uint64) bool {
	if r.m[v] {
		return false
	}
	r.ring = append(r.ring, v)
	if len(r.ring) > r.max {
		delete(r.m, r.ring[0])
		r.ring = r.ring[1:]
	}
	r.m[v] = true
	return true
}

// Random adds and lookups over small and large value ranges (so members
// repeat, collide and are evicted), zero included, against the reference.
func TestFIFOSetMatchesReference(t *testing.T) {
	for _, tc := range []struct {
		max   int
		space uint64
		ops   int
	}{{1, 4, 200}, {3, 10, 2000}, {100, 300, 50000}, {5000, 20000, 200000}, {5000, 1 << 62, 100000}} {
		rng := rand.New(rand.NewPCG(uint64(tc.max), tc.space))
		s := newFIFOSet(tc.max)
		ref := &refFIFO{m: map[uint64]bool{}, max: tc.max}
		for i := 0; i < tc.ops; i++ {
			v := rng.Uint64N(tc.space)
			if rng.IntN(3) == 0 {
				if got, want := s.has(v), ref.m[v]; got != want {
					t.Fatalf("max %d, op %d: has(%d) = %v, want %v", tc.max, i, v, got, want)
				}
				continue
			}
			if got, want := s.add(v), ref.add(v); got != want {
				t.Fatalf("max %d, op %d: add(%d) = %v, want %v", tc.max, i, v, got, want)
			}
		}
		members := s.count
		if s.zero {
			members++
		}
		if members != len(ref.m) {
			t.Fatalf("max %d: %d members, want %d", tc.max, members, len(ref.m))
		}
		if bound := max(4*tc.max, minSlots); len(s.slots) > bound {
			t.Fatalf("max %d: %d slots, want at most %d", tc.max, len(s.slots), bound)
		}
	}
}

// BenchmarkFIFOSetChurn is the dedupe's steady state: full, every add
// evicting the oldest, against the runtime map the set replaced.
//
//	go test -run '^$' -bench FIFOSetChurn ./internal/sandboxevent/
func BenchmarkFIFOSetChurn(b *testing.B) {
	const max = DefaultDedupeMax
	b.Run("fifoSet", func(b *testing.B) {
		s := newFIFOSet(max)
		rng := rand.New(rand.NewPCG(1, 2))
		for i := 0; i < 4*max; i++ {
			s.add(rng.Uint64())
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			v := rng.Uint64()
			s.has(v)
			s.add(v)
		}
	})
	b.Run("map", func(b *testing.B) {
		m := make(map[uint64]struct{}, 4096)
		var ring []uint64
		next := 0
		rng := rand.New(rand.NewPCG(1, 2))
		add := func(v uint64) {
			if _, ok := m[v]; ok {
				return
			}
			if len(ring) < max {
				ring = append(ring, v)
			} else {
				delete(m, ring[next])
				ring[next] = v
				next = (next + 1) % max
			}
			m[v] = struct{}{}
		}
		for i := 0; i < 4*max; i++ {
			add(rng.Uint64())
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			v := rng.Uint64()
			_ = m[v]
			add(v)
		}
	})
}
