package sealed

import (
	"bytes"
	"errors"
	"testing"
)

func ring(t testing.TB, active string, ids ...string) *Ring {
	r := &Ring{Active: active}
	for i, id := range ids {
		if err := r.Add(id, bytes.Repeat([]byte{byte(i + 1)}, 32)); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func TestRoundTripAndRotation(t *testing.T) {
	old := ring(t, "k1", "k1")
	k, err := old.NewObjectKey("blocks/a")
	if err != nil {
		t.Fatal(err)
	}
	obj := append([]byte(nil), k.Header...)
	off := uint64(len(obj))
	obj, err = k.Seal(obj, []byte("page one"), off)
	if err != nil {
		t.Fatal(err)
	}
	// Rotated: k2 is active, k1 still listed.
	rotated := ring(t, "k2", "k1", "k2")
	hk, err := rotated.Open("blocks/a", obj[:min(len(obj), MaxHeader)])
	if err != nil {
		t.Fatal(err)
	}
	got, err := hk.OpenPage(obj[off:], off)
	if err != nil || string(got) != "page one" {
		t.Fatalf("got %q, %v", got, err)
	}
	if _, err := hk.OpenPage(obj[off:], off+1); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("page at another offset: %v", err)
	}
	if _, err := ring(t, "k2", "k2").Open("blocks/a", obj); !errors.Is(err, ErrNoKey) {
		t.Fatalf("missing key: %v", err)
	}
	wrong := &Ring{Active: "k1"}
	_ = wrong.Add("k1", bytes.Repeat([]byte{9}, 32))
	if _, err := wrong.Open("blocks/a", obj); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("wrong key: %v", err)
	}
	if _, err := old.Open("blocks/b", obj); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("header moved to another object: %v", err)
	}
	flipped := append([]byte(nil), obj...)
	flipped[len(flipped)-1] ^= 1
	if _, err := hk.OpenPage(flipped[off:], off); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("flipped byte: %v", err)
	}
}

func TestParseKey(t *testing.T) {
	for _, in := range []string{
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
	} {
		k, err := ParseKey([]byte(in))
		if err != nil || k[31] != 31 {
			t.Fatalf("%q: %v %v", in, k, err)
		}
	}
	if _, err := ParseKey([]byte("short")); err == nil {
		t.Fatal("short key accepted")
	}
}

// FuzzOpen: arbitrary headers and pages never panic, and never open.
func FuzzOpen(f *testing.F) {
	r := ring(f, "k1", "k1")
	k, _ := r.NewObjectKey("o")
	f.Add(k.Header, []byte("0123456789abcdef0123456789abcdef"))
	f.Add([]byte(magic), []byte{})
	f.Fuzz(func(t *testing.T, header, page []byte) {
		ok, err := r.Open("o", header)
		if err != nil {
			return
		}
		if _, err := ok.OpenPage(page, 0); err == nil && len(page) >= Overhead {
			// Only a page sealed with this very key could open.
			t.Logf("opened a page of %d bytes", len(page))
		}
	})
}
