package secrets

import (
	"hash/maphash"
	"sync/atomic"
)

// keyCache remembers, per attribute key, what the policy decided. A batch
// repeats the same few dozen keys on every span, and deciding costs a
// keyword pass plus the globs; a lookup costs a hash and a compare. It is
// lossy (four ways per set; a full set loses a way picked by the hash), so
// unbounded key sets cost misses, never memory, and the few keys a batch
// repeats do not evict each other by an unlucky hash.
type keyCache struct {
	seed  maphash.Seed
	slots [keyCacheSlots]atomic.Pointer[keyDecision]
}

const (
	keyCacheSlots = 1024
	keyCacheWays  = 4
)

type keyDecision struct {
	key                string
	allowed, sensitive bool
}

func (c *keyCache) get(key string) (*keyDecision, uint64) {
	h := maphash.String(c.seed, key)
	set := h % (keyCacheSlots / keyCacheWays) * keyCacheWays
	for w := uint64(0); w < keyCacheWays; w++ {
		if d := c.slots[set+w].Load(); d != nil && d.key == key {
			return d, h
		}
	}
	return nil, h
}

func (c *keyCache) put(h uint64, d *keyDecision) {
	set := h % (keyCacheSlots / keyCacheWays) * keyCacheWays
	for w := uint64(0); w < keyCacheWays; w++ {
		if c.slots[set+w].CompareAndSwap(nil, d) {
			return
		}
	}
	c.slots[set+(h>>32)%keyCacheWays].Store(d)
}
