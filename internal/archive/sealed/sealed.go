// Package sealed is the forensic archive's client-side envelope
// encryption, pure (no store, no gocloud) so its parsers are fuzzed fast.
//
// An encrypted object starts with a header holding a fresh 256-bit data
// key wrapped (AES-256-GCM) by a key-encryption key (KEK) named by id; each
// page after it is sealed on its own with the data key, so a reader that
// knows a page's offset and length decrypts it alone:
//
//	header: "SWE1" | u8 len(kek id) | kek id | nonce(12) | wrapped data key (32+16) | u16 header length
//	page:   nonce(12) | AES-256-GCM ciphertext | tag(16)
//
// The data key's wrapping binds the object's key name (as associated
// data), and each page binds its offset: a header or a page moved to
// another object, or pages reordered, fail to open instead of decrypting.
package sealed

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

const (
	magic     = "SWE1"
	nonceSize = 12
	tagSize   = 16
	keySize   = 32
	// MaxHeader bounds a header: a reader fetches this many bytes first.
	MaxHeader = len(magic) + 1 + maxKeyID + nonceSize + keySize + tagSize + 2
	maxKeyID  = 64
	// Overhead is what sealing adds to each page.
	Overhead = nonceSize + tagSize
)

var (
	// ErrNoKey: the object was sealed with a KEK id the ring does not hold.
	ErrNoKey = errors.New("no key-encryption key with this id")
	// ErrWrongKey: a KEK of that id does not open the data key: a wrong
	// key, or an altered or moved header.
	ErrWrongKey = errors.New("the key-encryption key does not open this object's data key (wrong key, or the header was altered)")
	// ErrCorrupt: a header or page that is not what this package writes,
	// or that fails authentication.
	ErrCorrupt = errors.New("encrypted data is corrupt or was altered")
)

var idRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidKeyID names what a key id may be.
func ValidKeyID(id string) error {
	if !idRe.MatchString(id) {
		return fmt.Errorf("key id %q: use 1-64 of A-Z a-z 0-9 . _ -", id)
	}
	return nil
}

// ParseKey reads a 256-bit key as written in a key file or variable: 64
// hex digits, or base64 (standard or URL, padded or not) of 32 bytes, or
// exactly 32 raw bytes; surrounding whitespace is ignored.
func ParseKey(b []byte) ([]byte, error) {
	if len(b) == keySize {
		return append([]byte(nil), b...), nil
	}
	s := strings.TrimSpace(string(b))
	if len(s) == 2*keySize {
		if k, err := hex.DecodeString(s); err == nil {
			return k, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && len(k) == keySize {
			return k, nil
		}
	}
	return nil, errors.New("not a 256-bit key: write 64 hex digits or base64 of 32 bytes (e.g. `openssl rand -hex 32`)")
}

// Ring holds the KEKs by id; Active is the one new objects are sealed
// with. Old ids stay listed so objects sealed with them stay readable.
type Ring struct {
	Active string
	keys   map[string]cipher.AEAD
}

// Add puts a 256-bit KEK under id.
func (r *Ring) Add(id string, kek []byte) error {
	if err := ValidKeyID(id); err != nil {
		return err
	}
	if len(kek) != keySize {
		return fmt.Errorf("key %s: %d bytes, want %d", id, len(kek), keySize)
	}
	a, err := newGCM(kek)
	if err != nil {
		return err
	}
	if r.keys == nil {
		r.keys = map[string]cipher.AEAD{}
	}
	r.keys[id] = a
	return nil
}

// Has reports whether the ring holds id.
func (r *Ring) Has(id string) bool { _, ok := r.keys[id]; return ok }

func newGCM(k []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// ObjectKey is one object's data key, ready to seal or open its pages.
type ObjectKey struct {
	aead   cipher.AEAD
	KEKID  string
	Header []byte // the object's header, to be written first
}

// NewObjectKey draws a data key for the object named name and wraps it
// with the active KEK.
func (r *Ring) NewObjectKey(name string) (*ObjectKey, error) {
	kek, ok := r.keys[r.Active]
	if !ok {
		return nil, fmt.Errorf("%w: %q (the active key)", ErrNoKey, r.Active)
	}
	dk := make([]byte, keySize)
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(dk); err != nil {
		return nil, err
	}
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	h := make([]byte, 0, MaxHeader)
	h = append(h, magic...)
	h = append(h, byte(len(r.Active)))
	h = append(h, r.Active...)
	h = append(h, nonce...)
	h = kek.Seal(h, nonce, dk, wrapAD(h[:len(magic)+1+len(r.Active)], name))
	h = binary.BigEndian.AppendUint16(h, uint16(len(h)+2))
	a, err := newGCM(dk)
	if err != nil {
		return nil, err
	}
	return &ObjectKey{aead: a, KEKID: r.Active, Header: h}, nil
}

func wrapAD(prefix []byte, name string) []byte {
	return append(append([]byte(nil), prefix...), name...)
}

// HeaderLen reads the length of the header data starts with; data must
// hold the whole header (read MaxHeader bytes, or the object if shorter).
func HeaderLen(data []byte) (int, error) {
	if len(data) < len(magic)+1 || string(data[:len(magic)]) != magic {
		return 0, fmt.Errorf("%w: no encryption header", ErrCorrupt)
	}
	idLen := int(data[len(magic)])
	n := len(magic) + 1 + idLen + nonceSize + keySize + tagSize + 2
	if idLen == 0 || idLen > maxKeyID || len(data) < n || int(binary.BigEndian.Uint16(data[n-2:n])) != n {
		return 0, fmt.Errorf("%w: bad encryption header", ErrCorrupt)
	}
	return n, nil
}

// Open unwraps the data key of the object named name from its header.
func (r *Ring) Open(name string, header []byte) (*ObjectKey, error) {
	n, err := HeaderLen(header)
	if err != nil {
		return nil, err
	}
	idEnd := len(magic) + 1 + int(header[len(magic)])
	id := string(header[len(magic)+1 : idEnd])
	kek, ok := r.keys[id]
	if !ok {
		return nil, fmt.Errorf("%w: %q (configure it to read objects sealed with it)", ErrNoKey, id)
	}
	nonce := header[idEnd : idEnd+nonceSize]
	dk, err := kek.Open(nil, nonce, header[idEnd+nonceSize:n-2], wrapAD(header[:idEnd], name))
	if err != nil {
		return nil, fmt.Errorf("%w (key id %q)", ErrWrongKey, id)
	}
	a, err := newGCM(dk)
	if err != nil {
		return nil, err
	}
	return &ObjectKey{aead: a, KEKID: id, Header: header[:n:n]}, nil
}

// Seal appends the sealed form of page, to be stored at offset off of the
// object, to dst.
func (k *ObjectKey) Seal(dst, page []byte, off uint64) ([]byte, error) {
	var nonce [nonceSize]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, err
	}
	var ad [8]byte
	binary.BigEndian.PutUint64(ad[:], off)
	dst = append(dst, nonce[:]...)
	return k.aead.Seal(dst, nonce[:], page, ad[:]), nil
}

// OpenPage decrypts a page stored at offset off.
func (k *ObjectKey) OpenPage(sealed []byte, off uint64) ([]byte, error) {
	if len(sealed) < Overhead {
		return nil, fmt.Errorf("%w: page of %d bytes", ErrCorrupt, len(sealed))
	}
	var ad [8]byte
	binary.BigEndian.PutUint64(ad[:], off)
	out, err := k.aead.Open(nil, sealed[:nonceSize], sealed[nonceSize:], ad[:])
	if err != nil {
		return nil, fmt.Errorf("%w: page at %d", ErrCorrupt, off)
	}
	return out, nil
}
