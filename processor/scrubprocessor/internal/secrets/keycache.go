package secrets

import (
	"hash/maphash"
	"sync/atomic"
)

// keyCache remembers, per attribute key, what the policy decided. A batch
// repeats the same few dozen keys on every span, and deciding costs a
// keyword pass plus the globs; a lookup costs a hash and a compare. It is
// lossy (one entry per slot, the latest wins), so unbounded key sets
// cost misses, never memory.
type keyCache struct {
	seed  maphash.Seed
	slots [keyCacheSlots]atomic.Pointer[keyDecision]
}

const keyCacheSlots = 1024

type keyDecision struct {
	key                string
	allowed, sensitive bool
}

func (c *keyCache) get(key string) (*keyDecision, uint64) {
	h := maphash.String(c.seed, key)
	if d := c.slots[h%keyCacheSlots].Load(); d != nil && d.key == key {
		return d, h
	}
	return nil, h
}

func (c *keyCache) put(h uint64, d *keyDecision) { c.slots[h%keyCacheSlots].Store(d) }
