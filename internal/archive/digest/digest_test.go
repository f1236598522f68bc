package digest

import (
	"crypto/ed25519"
	"strings"
	"testing"
	"time"
)

func key(t testing.TB, seed byte) ed25519.PrivateKey {
	s := make([]byte, ed25519.SeedSize)
	s[0] = seed
	return ed25519.NewKeyFromSeed(s)
}

func signed(t testing.TB, priv ed25519.PrivateKey, p Payload) *Digest {
	raw, err := Sign(p, priv)
	if err != nil {
		t.Fatal(err)
	}
	d, err := Parse(Key(p.Writer, p.Seq, p.Start, p.End), raw)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func keyTime(k string) (time.Time, bool) {
	var ns int64
	i := strings.LastIndexByte(k, '/')
	for _, c := range k[i+1:] {
		if c < '0' || c > '9' {
			break
		}
		ns = ns*10 + int64(c-'0')
	}
	return time.Unix(0, ns), ns > 0
}

const h1 = "1111111111111111111111111111111111111111111111111111111111111111"

// TestCheck: a chain of three digests, then each kind of tampering.
func TestCheck(t *testing.T) {
	priv := key(t, 1)
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	obj := func(m int) Object {
		return Object{Key: "blocks/" + itoa(t0.Add(time.Duration(m)*time.Minute).UnixNano()) + "-x", Size: 3, SHA256: h1}
	}
	d1 := signed(t, priv, Payload{Writer: "w", Seq: 1, Start: t0, End: t0.Add(time.Hour), Objects: []Object{obj(1), obj(2)}})
	d2 := signed(t, priv, Payload{Writer: "w", Seq: 2, Start: t0.Add(time.Hour), End: t0.Add(2 * time.Hour), Previous: d1.Hash, Objects: []Object{obj(61)}})
	d3 := signed(t, priv, Payload{Writer: "w", Seq: 3, Start: t0.Add(2 * time.Hour), End: t0.Add(3 * time.Hour), Previous: d2.Hash, Objects: []Object{obj(121)}})
	stored := map[string]Stored{}
	for _, m := range []int{1, 2, 61, 121} {
		stored[obj(m).Key] = Stored{Size: 3, SHA256: h1}
	}
	run := func(ds []*Digest, keys []ed25519.PublicKey, st map[string]Stored) *Report {
		c := &Check{Digests: ds, Stored: st, Keys: keys, KeyTime: keyTime, Now: t0.Add(3 * time.Hour)}
		return c.Run()
	}
	pub := []ed25519.PublicKey{priv.Public().(ed25519.PublicKey)}
	if rep := run([]*Digest{d1, d2, d3}, pub, stored); rep.Failed() != 0 {
		t.Fatalf("clean archive: %+v", rep.Findings)
	}
	// Dropping d2: the chain breaks at d3 and d2's object is unnamed.
	rep := run([]*Digest{d1, d3}, pub, stored)
	kinds := map[Kind]int{}
	for _, f := range rep.Findings {
		kinds[f.Kind]++
	}
	if kinds[ChainBroken] != 1 || kinds[Added] != 1 {
		t.Fatalf("dropped digest: %+v", rep.Findings)
	}
	// Another key: every digest has a bad signature.
	other := []ed25519.PublicKey{key(t, 2).Public().(ed25519.PublicKey)}
	rep = run([]*Digest{d1, d2, d3}, other, stored)
	kinds = map[Kind]int{}
	for _, f := range rep.Findings {
		kinds[f.Kind]++
	}
	if kinds[BadSignature] != 3 || kinds[Unverified] != 4 {
		t.Fatalf("wrong key: %+v", rep.Findings)
	}
}

func itoa(n int64) string {
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// FuzzParse: arbitrary bytes never panic the parser, and what it accepts
// agrees with its key.
func FuzzParse(f *testing.F) {
	priv := key(f, 1)
	t0 := time.Unix(1700000000, 0).UTC()
	raw, _ := Sign(Payload{Writer: "w", Seq: 1, Start: t0, End: t0.Add(time.Hour), Objects: []Object{{Key: "blocks/k", Size: 1, SHA256: h1}}}, priv)
	k := Key("w", 1, t0, t0.Add(time.Hour))
	f.Add(raw)
	f.Add([]byte(`{"payload":{},"signature":""}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(k, data)
		if err != nil {
			return
		}
		if d.Writer != "w" || d.Seq != 1 {
			t.Fatalf("accepted %q seq %d under %s", d.Writer, d.Seq, k)
		}
		_ = d.Verify([]ed25519.PublicKey{priv.Public().(ed25519.PublicKey)})
	})
}

// TestExpectedWriters: a writer whose newest digests were deleted, and one
// with none, are findings when expected.
func TestExpectedWriters(t *testing.T) {
	priv := key(t, 1)
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	d1 := signed(t, priv, Payload{Writer: "w", Seq: 1, Start: t0, End: t0.Add(time.Hour), Interval: "1h0m0s"})
	pub := []ed25519.PublicKey{priv.Public().(ed25519.PublicKey)}
	c := &Check{Digests: []*Digest{d1}, Keys: pub, KeyTime: keyTime, Now: t0.Add(90 * time.Minute), Writers: []string{"w"}}
	if rep := c.Run(); rep.Failed() != 0 {
		t.Fatalf("fresh chain: %+v", rep.Findings)
	}
	c = &Check{Digests: []*Digest{d1}, Keys: pub, KeyTime: keyTime, Now: t0.Add(5 * time.Hour), Writers: []string{"w", "x"}}
	if rep := c.Run(); rep.Failed() != 2 {
		t.Fatalf("stale chain and a missing writer: %+v", rep.Findings)
	}
}
