package persist

import (
	"bytes"
	"compress/gzip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestObjectKeyEscapes(t *testing.T) {
	for id, want := range map[string]string{
		"summary-030":        "p/summary-030.json.gz",
		"weather.v2_x":       "p/weather.v2_x.json.gz",
		"../../etc/passwd":   "p/%2E.%2F..%2Fetc%2Fpasswd.json.gz",
		"a b/c\x00":          "p/a%20b%2Fc%00.json.gz",
		".":                  "p/%2E.json.gz",
		"ext/with%percent":   "p/ext%2Fwith%25percent.json.gz",
		"UPPER-lower-123_ok": "p/UPPER-lower-123_ok.json.gz",
	} {
		assert.Equal(t, want, ObjectKey("p/", id), id)
	}
	assert.NotEqual(t, ObjectKey("", "a/b"), ObjectKey("", "a%2Fb"), "escaping is injective")
}

func TestObjectRoundTrip(t *testing.T) {
	s := snaps(1)[0]
	b, err := EncodeObject(s, "replica-1", time.Unix(5, 0))
	require.NoError(t, err)
	o, err := DecodeObject(b)
	require.NoError(t, err)
	assert.Equal(t, "replica-1", o.Replica)
	assert.Equal(t, time.Unix(5, 0).UTC(), o.SavedAt)
	assert.Equal(t, s.ID, o.Profile.ID)
	assert.Equal(t, []string{"a.io"}, o.Profile.Targets["hosts"])
}

func gz(s string) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write([]byte(s))
	_ = zw.Close()
	return buf.Bytes()
}

func TestDecodeObjectRejects(t *testing.T) {
	for name, b := range map[string][]byte{
		"not gzip": []byte("{}"),
		"not json": gz("{"),
		"format":   gz(`{"format":"other","version":1}`),
		"version":  gz(`{"format":"sandwatch.baseline.profile","version":2}`),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := DecodeObject(b)
			assert.Error(t, err)
		})
	}
}
