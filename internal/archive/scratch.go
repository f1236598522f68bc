package archive

import "sync"

// scratch keeps the byte buffers a write uses and drops once its objects
// are stored (a block's data, a catalog's lines, the compressor's
// output): the cutter writes one 4 to 8 MiB block after another, and
// allocating these afresh was about half of what a write allocated.
var scratch = sync.Pool{New: func() any { return new([]byte) }}

// maxScratch bounds what a pooled buffer may keep (a huge batch's buffer
// is left to the collector).
const maxScratch = 32 << 20

// getScratch returns an empty buffer of at least n bytes of capacity.
func getScratch(n int) []byte {
	b := (*scratch.Get().(*[]byte))[:0]
	if cap(b) < n {
		return make([]byte, 0, n)
	}
	return b
}

// putScratch gives b back; the caller must not use it afterwards.
func putScratch(b []byte) {
	if cap(b) == 0 || cap(b) > maxScratch {
		return
	}
	b = b[:0]
	scratch.Put(&b)
}
