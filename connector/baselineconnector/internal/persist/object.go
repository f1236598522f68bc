package persist

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/profile"
)

// The shared-store form: one object per extension, written whole (object
// stores replace an object atomically), so replicas that own different
// extensions never write the same object and a reader sees one complete
// version or the previous one.
const (
	// ObjectFormat names the payload of one extension's object.
	ObjectFormat = "sandwatch.baseline.profile"
	// ObjectVersion is bumped on incompatible changes.
	ObjectVersion = 1
	// ObjectSuffix ends every profile object's key.
	ObjectSuffix = ".json.gz"
	// maxObjectBytes bounds a decoded object: a full profile at the caps
	// is ~27 KiB in memory and less as JSON.
	maxObjectBytes = 8 << 20
)

// Object is one extension's stored profile and who wrote it when.
type Object struct {
	Format  string           `json:"format"`
	Version int              `json:"version"`
	SavedAt time.Time        `json:"saved_at"`
	Replica string           `json:"replica,omitempty"`
	Profile profile.Snapshot `json:"profile"`
}

// ObjectKey is the key of extension id's object under prefix. The id is
// escaped to [A-Za-z0-9._-] plus %XX, so a hostile id cannot leave the
// prefix ("../x", "/", NUL) and every store accepts the key.
func ObjectKey(prefix, id string) string {
	var b strings.Builder
	b.Grow(len(prefix) + len(id) + len(ObjectSuffix))
	b.WriteString(prefix)
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
			b.WriteByte(c)
		case c == '.' && i > 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	b.WriteString(ObjectSuffix)
	return b.String()
}

// EncodeObject is gzip'd JSON of snap's Object.
func EncodeObject(snap profile.Snapshot, replica string, now time.Time) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	o := Object{Format: ObjectFormat, Version: ObjectVersion, SavedAt: now.UTC(), Replica: replica, Profile: snap}
	if err := json.NewEncoder(zw).Encode(&o); err != nil {
		return nil, fmt.Errorf("baseline: encode profile %q: %w", snap.ID, err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("baseline: compress profile %q: %w", snap.ID, err)
	}
	return buf.Bytes(), nil
}

// DecodeObject reverses EncodeObject and rejects another format or
// version, so a replica never judges with a profile it misreads.
func DecodeObject(b []byte) (*Object, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("profile object is not gzip: %w", err)
	}
	var o Object
	if err := json.NewDecoder(io.LimitReader(zr, maxObjectBytes)).Decode(&o); err != nil {
		return nil, fmt.Errorf("decode profile object: %w", err)
	}
	if o.Format != ObjectFormat {
		return nil, fmt.Errorf("profile object format %q is not %q", o.Format, ObjectFormat)
	}
	if o.Version != ObjectVersion {
		return nil, fmt.Errorf("profile object version %d, this build reads version %d", o.Version, ObjectVersion)
	}
	return &o, nil
}
