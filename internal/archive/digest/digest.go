// Package digest is the forensic archive's tamper-evidence format, after
// AWS CloudTrail's log file integrity validation: each interval, every
// writer stores a digest listing the SHA-256 of each object it stored,
// the hash of its previous digest (a chain per writer) and the prunes it
// ran, signed with ed25519. It is pure: no store, no gocloud, so its
// parser is fuzzed fast.
package digest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Prefix is where digests live: Prefix<writer>/<seq>-<start>-<end>.json.
const Prefix = "digests/"

// Version of the payload format.
const Version = 1

// Object is one stored object: its key, size and SHA-256 (hex).
type Object struct {
	Key    string `json:"key"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Prune records a retention run: everything written before Before was
// deleted on purpose.
type Prune struct {
	Before time.Time `json:"before"`
	At     time.Time `json:"at"`
}

// Payload is what a digest says; its JSON bytes are what is signed.
type Payload struct {
	Version  int       `json:"version"`
	Writer   string    `json:"writer"`
	Seq      uint64    `json:"seq"` // 1 for a writer's first digest
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Interval string    `json:"interval"` // the writer's digest interval, e.g. "1h0m0s"
	// Previous is the SHA-256 (hex) of the writer's previous digest
	// object, "" for its first.
	Previous string   `json:"previous"`
	Objects  []Object `json:"objects"`
	Pruned   []Prune  `json:"pruned,omitempty"`
	// Retention is the writer's configured retention (max_age), "" if
	// it keeps everything: what an auditor expects prunes to remove.
	Retention string `json:"retention,omitempty"`
	// KeyID names the signing key: the first 16 hex digits of the SHA-256
	// of its public key.
	KeyID string `json:"key_id"`
}

// envelope is the stored object: the payload's exact bytes and their
// signature.
type envelope struct {
	Payload   json.RawMessage `json:"payload"`
	Signature string          `json:"signature"` // hex ed25519 over Payload
}

// Digest is a parsed digest object.
type Digest struct {
	Payload
	Raw     []byte // the object's bytes
	Signed  []byte // the payload bytes the signature covers
	Sig     []byte
	Hash    string // SHA-256 (hex) of Raw: what the next digest's Previous names
	Key     string // the object's key
	parseOK bool
}

var writerRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidWriter reports whether id can name a writer (and so a key prefix).
func ValidWriter(id string) error {
	if !writerRe.MatchString(id) || strings.Contains(id, "..") {
		return fmt.Errorf("writer id %q: use 1-64 of A-Z a-z 0-9 . _ - (starting with a letter or digit)", id)
	}
	return nil
}

// WriterFrom makes a writer id of s (a host name, say): the characters a
// writer id may hold, at most 40 of them; "writer" if none is left.
func WriterFrom(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s) && len(out) < 40; i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' {
			out = append(out, c)
		}
	}
	for len(out) > 0 && (out[0] == '.' || out[0] == '_' || out[0] == '-') {
		out = out[1:]
	}
	if len(out) == 0 {
		return "writer"
	}
	return strings.ReplaceAll(string(out), "..", ".")
}

// Key names a digest object; sorted keys of one writer are in seq order.
func Key(writer string, seq uint64, start, end time.Time) string {
	return fmt.Sprintf("%s%s/%012d-%019d-%019d.json", Prefix, writer, seq, start.UnixNano(), end.UnixNano())
}

// KeyInfo is what a digest key says.
type KeyInfo struct {
	Writer     string
	Seq        uint64
	Start, End time.Time
}

// ParseKey parses a digest key; ok is false for anything else.
func ParseKey(key string) (KeyInfo, bool) {
	rest, ok := strings.CutPrefix(key, Prefix)
	if !ok {
		return KeyInfo{}, false
	}
	w, name, ok := strings.Cut(rest, "/")
	if !ok || ValidWriter(w) != nil || !strings.HasSuffix(name, ".json") {
		return KeyInfo{}, false
	}
	parts := strings.Split(strings.TrimSuffix(name, ".json"), "-")
	if len(parts) != 3 {
		return KeyInfo{}, false
	}
	seq, err0 := strconv.ParseUint(parts[0], 10, 64)
	s, err1 := strconv.ParseInt(parts[1], 10, 64)
	e, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err0 != nil || err1 != nil || err2 != nil {
		return KeyInfo{}, false
	}
	return KeyInfo{Writer: w, Seq: seq, Start: time.Unix(0, s), End: time.Unix(0, e)}, true
}

// KeyID names a public key: the first 16 hex digits of its SHA-256.
func KeyID(pub ed25519.PublicKey) string {
	s := sha256.Sum256(pub)
	return hex.EncodeToString(s[:8])
}

// Sum is the hex SHA-256 of data.
func Sum(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// Sign encodes p, signed with priv, as a digest object.
func Sign(p Payload, priv ed25519.PrivateKey) ([]byte, error) {
	p.Version = Version
	p.KeyID = KeyID(priv.Public().(ed25519.PublicKey))
	if p.Objects == nil {
		p.Objects = []Object{}
	}
	body, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode digest: %w", err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(envelope{Payload: body, Signature: hex.EncodeToString(ed25519.Sign(priv, body))}); err != nil {
		return nil, fmt.Errorf("encode digest: %w", err)
	}
	return buf.Bytes(), nil
}

// ErrMalformed: the object is not a digest.
var ErrMalformed = errors.New("malformed digest")

// maxObjectKey bounds a key a digest may name.
const maxObjectKey = 1024

// Parse reads a digest object (without checking its signature: see
// Digest.Verify) and checks it agrees with its key.
func Parse(key string, raw []byte) (*Digest, error) {
	info, ok := ParseKey(key)
	if !ok {
		return nil, fmt.Errorf("%w: %q is not a digest key", ErrMalformed, key)
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	d := &Digest{Raw: raw, Signed: env.Payload, Hash: Sum(raw), Key: key}
	var err error
	if d.Sig, err = hex.DecodeString(env.Signature); err != nil || len(d.Sig) != ed25519.SignatureSize {
		return nil, fmt.Errorf("%w: signature is not %d hex bytes", ErrMalformed, ed25519.SignatureSize)
	}
	if err := json.Unmarshal(env.Payload, &d.Payload); err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	switch {
	case d.Version != Version:
		return nil, fmt.Errorf("%w: version %d", ErrMalformed, d.Version)
	case d.Writer != info.Writer || d.Seq != info.Seq || !d.Start.Equal(info.Start) || !d.End.Equal(info.End):
		return nil, fmt.Errorf("%w: payload (writer %q seq %d) does not match its key", ErrMalformed, d.Writer, d.Seq)
	case d.Previous != "" && !isHex(d.Previous, 64):
		return nil, fmt.Errorf("%w: previous is not a SHA-256", ErrMalformed)
	}
	for _, o := range d.Objects {
		if o.Key == "" || len(o.Key) > maxObjectKey || !isHex(o.SHA256, 64) || o.Size < 0 {
			return nil, fmt.Errorf("%w: object entry %q", ErrMalformed, o.Key)
		}
	}
	d.parseOK = true
	return d, nil
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// Verify reports whether one of keys signed d.
func (d *Digest) Verify(keys []ed25519.PublicKey) bool {
	if !d.parseOK {
		return false
	}
	for _, k := range keys {
		if ed25519.Verify(k, d.Signed, d.Sig) {
			return true
		}
	}
	return false
}
