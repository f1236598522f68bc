package sandboxevent

import "math/bits"

// keyTable is the classifier's attribute-key lookup: a read-only open-
// addressing table built once from the key map. Most attribute keys a span
// carries are not in it (thread ids, code locations, SDK fields), so the
// lookup is made to reject cheaply: the hash reads the key's length and
// three bytes (no pass over the whole key, unlike the map's), and a slot
// whose key has another length is passed over without comparing bytes.
// Profiles of the collector put the map lookup at a third of
// classification; this table takes it to a few ns per attribute.
type keyTable struct {
	mask  uint32
	slots []keySlot
}

type keySlot struct {
	key  string // "" = empty slot
	slot slot
}

func newKeyTable(keys map[string]slot) keyTable {
	size := 1 << bits.Len(uint(len(keys)*4)) // load factor at most 1/4: short probes
	t := keyTable{mask: uint32(size - 1), slots: make([]keySlot, size)}
	for k, s := range keys {
		if k == "" {
			continue // no attribute key is empty; "" marks an empty slot
		}
		i := keyHash(k) & t.mask
		for t.slots[i].key != "" {
			i = (i + 1) & t.mask
		}
		t.slots[i] = keySlot{key: k, slot: s}
	}
	return t
}

// keyHash mixes the length with the first, middle and last bytes: enough
// to spread dotted attribute names ("http.request.method", "url.full").
func keyHash(k string) uint32 {
	n := uint32(len(k))
	h := n*0x9E3779B1 ^ uint32(k[0])<<7 ^ uint32(k[n/2])<<15 ^ uint32(k[n-1])<<23 ^ uint32(k[n*3/4])
	return h ^ h>>13
}

func (t *keyTable) get(k string) (slot, bool) {
	if k == "" {
		return slot{}, false
	}
	for i := keyHash(k) & t.mask; ; i = (i + 1) & t.mask {
		e := &t.slots[i]
		if e.key == "" {
			return slot{}, false
		}
		if len(e.key) == len(k) && e.key == k {
			return e.slot, true
		}
	}
}
