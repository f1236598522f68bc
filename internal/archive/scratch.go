package archive

// scratch keeps a few of the byte buffers a write uses and drops once its
// objects are stored (a block's data, a catalog's lines, the S2
// compressor's worst case): the cutter writes one 4 to 8 MiB block after
// another, and allocating these afresh was about half of what a write
// allocated. Retention is bounded, whatever the load: at most
// scratchKept buffers of at most maxScratch bytes (a unique-trace-id
// flood makes catalogs of tens of MiB; those are not kept, so the
// memory_limiter sees what it saw before).
var scratch = make(chan []byte, scratchKept)

const (
	scratchKept = 4
	maxScratch  = 4 << 20
)

// getScratch returns an empty buffer of at least n bytes of capacity.
func getScratch(n int) []byte {
	if n <= maxScratch {
		select {
		case b := <-scratch:
			if cap(b) >= n {
				return b[:0]
			}
			putScratch(b) // too small for this one; another may use it
		default:
		}
	}
	return make([]byte, 0, n)
}

// putScratch gives b back; the caller must not use it afterwards.
func putScratch(b []byte) {
	if cap(b) == 0 || cap(b) > maxScratch {
		return
	}
	select {
	case scratch <- b[:0]:
	default:
	}
}
