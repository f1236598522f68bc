package secrets

// keywordIndex finds, in one pass over a value, every configured keyword
// (ASCII case-insensitive) and reports which rules they belong to. It is a
// byte-indexed table: a 64 Ki-bit bitmap of the keywords' first three
// bytes (hashed; the first two for two-byte keywords) rejects almost every
// position with one load, and only a position that may start some keyword
// compares the keywords of its first two bytes. With some 600 keywords,
// many starting with common pairs (ap, co, se, to), the third byte is what
// keeps the candidates rare. No allocation happens on any path.
type keywordIndex struct {
	bigram    [1 << 16 / 64]uint64 // bit per first-two-bytes pair of a two-byte keyword
	trigram   [1 << 16 / 64]uint64 // bit per hashed first three bytes of a longer keyword
	bucket    *[1 << 16]uint16     // bigram -> index+1 into buckets (dense: no hashing)
	buckets   [][]kwEntry
	single    [256]bool // one-byte keywords (rare; user rules)
	hasSingle bool
	singleR   [256][]int
}

type kwEntry struct {
	kw    string // lowercase
	rules []int
}

var lowerTab = func() (t [256]byte) {
	for i := range t {
		c := byte(i)
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		t[i] = c
	}
	return t
}()

func newKeywordIndex() *keywordIndex {
	return &keywordIndex{bucket: new([1 << 16]uint16), buckets: [][]kwEntry{nil}}
}

func toLowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = lowerTab[c]
	}
	return string(b)
}

// add registers kw (non-empty) for rule.
func (k *keywordIndex) add(kw string, rule int) {
	kw = toLowerASCII(kw)
	if len(kw) == 1 {
		k.single[kw[0]] = true
		k.hasSingle = true
		k.singleR[kw[0]] = append(k.singleR[kw[0]], rule)
		return
	}
	bg := uint16(kw[0])<<8 | uint16(kw[1])
	if len(kw) == 2 {
		k.bigram[bg>>6] |= 1 << (bg & 63)
	} else {
		h := tri(bg, kw[2])
		k.trigram[h>>6] |= 1 << (h & 63)
	}
	bi := k.bucket[bg]
	if bi == 0 {
		k.buckets = append(k.buckets, nil)
		bi = uint16(len(k.buckets) - 1)
		k.bucket[bg] = bi
	}
	es := k.buckets[bi]
	for i := range es {
		if es[i].kw == kw {
			es[i].rules = append(es[i].rules, rule)
			return
		}
	}
	k.buckets[bi] = append(es, kwEntry{kw: kw, rules: []int{rule}})
}

// next returns the first position at or after i where a keyword may
// start (a one-byte keyword, or a bigram some keyword starts with), or
// -1. The caller compares the bigram's bucket there.
func (k *keywordIndex) next(v string, i int) int {
	n := len(v)
	if i+2 < n && !k.hasSingle {
		// The common case, unrolled: each byte is loaded and lowered
		// once, carried from one position to the next.
		c0, c1 := lowerTab[v[i]], lowerTab[v[i+1]]
		for ; i+2 < n; i++ {
			c2 := lowerTab[v[i+2]]
			bg := uint16(c0)<<8 | uint16(c1)
			if k.bigram[bg>>6]&(1<<(bg&63)) != 0 {
				return i
			}
			if h := tri(bg, c2); k.trigram[h>>6]&(1<<(h&63)) != 0 {
				return i
			}
			c0, c1 = c1, c2
		}
	}
	for ; i < n; i++ {
		c0 := lowerTab[v[i]]
		if k.single[c0] {
			return i
		}
		if i+1 >= n {
			break
		}
		bg := uint16(c0)<<8 | uint16(lowerTab[v[i+1]])
		if k.bigram[bg>>6]&(1<<(bg&63)) != 0 {
			return i
		}
		if i+2 < n {
			if h := tri(bg, lowerTab[v[i+2]]); k.trigram[h>>6]&(1<<(h&63)) != 0 {
				return i
			}
		}
	}
	return -1
}

// tri hashes a lowercase bigram and a third byte to 16 bits.
func tri(bg uint16, c2 byte) uint16 {
	return uint16((uint32(bg)<<8 | uint32(c2)) * 2654435761 >> 16)
}

// at returns the one-byte keyword rules and the bigram bucket at i.
func (k *keywordIndex) at(v string, i int) (single []int, bucket []kwEntry) {
	c0 := lowerTab[v[i]]
	if k.single[c0] {
		single = k.singleR[c0]
	}
	if i+1 < len(v) {
		bucket = k.buckets[k.bucket[uint16(c0)<<8|uint16(lowerTab[v[i+1]])]]
	}
	return single, bucket
}

// scan sets in hits the bit of every rule whose keyword occurs in v and
// reports whether any did.
func (k *keywordIndex) scan(v string, hits *ruleSet) bool {
	found := false
	for i := k.next(v, 0); i >= 0; i = k.next(v, i+1) {
		single, bucket := k.at(v, i)
		for _, r := range single {
			hits.set(r)
			found = true
		}
		for _, e := range bucket {
			if hasPrefixFold(v[i:], e.kw) {
				for _, r := range e.rules {
					hits.set(r)
				}
				found = true
			}
		}
	}
	return found
}

// hasPrefixFold: s starts with the lowercase keyword kw, ASCII case folded.
func hasPrefixFold(s, kw string) bool {
	if len(s) < len(kw) {
		return false
	}
	for j := 2; j < len(kw); j++ { // the bigram already matched
		if lowerTab[s[j]] != kw[j] {
			return false
		}
	}
	return true
}

// maxRules bounds built-in plus user rules so the hit set stays a fixed
// array on the stack.
const maxRules = 512

type ruleSet [maxRules / 64]uint64

func (s *ruleSet) set(i int)      { s[i>>6] |= 1 << (i & 63) }
func (s *ruleSet) has(i int) bool { return s[i>>6]&(1<<(i&63)) != 0 }
