package lookuprun

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// blockKeys stands in for the archive's block-key parser.
func blockKeys(k string) bool { return strings.HasPrefix(k, "blocks/") }

func TestSpanFindsEveryEntryOfAnID(t *testing.T) {
	keys := []string{"blocks/a", "blocks/b"}
	// 3000 entries over 700 ids: ids repeat across fence boundaries.
	var entries []Entry
	want := map[[16]byte]int{}
	for i := range 3000 {
		var id [16]byte
		id[0], id[1] = byte(i%700>>8), byte(i%700)
		id[15] = 1
		entries = append(entries, Entry{TraceID: id, Key: uint32(i % 2), Off: uint64(i), Len: 10, Written: int64(i)})
		want[id]++
	}
	data := Encode(keys, entries)
	h, all, err := Decode(data, blockKeys)
	require.NoError(t, err)
	assert.Equal(t, keys, h.Keys)
	assert.Equal(t, 3000, h.Entries)
	require.Len(t, all, 3000)
	for id, n := range want {
		lo, hi := h.Span(id)
		off, length := h.ByteRange(lo, hi)
		assert.LessOrEqual(t, length, int64(2*entriesPerFence*EntrySize), "one or two fences' worth")
		es, err := DecodeEntries(data[off:off+length], len(keys))
		require.NoError(t, err)
		found := 0
		for _, e := range es {
			if e.TraceID == id {
				found++
			}
		}
		assert.Equal(t, n, found, "id %x", id[:2])
	}
	lo, hi := h.Span([16]byte{0xff})
	off, length := h.ByteRange(lo, hi)
	es, err := DecodeEntries(data[off:off+length], len(keys))
	require.NoError(t, err)
	for _, e := range es {
		assert.NotEqual(t, [16]byte{0xff}, e.TraceID)
	}
}

func TestEncodeSortsAndStreamsTheSameBytes(t *testing.T) {
	entries := []Entry{{TraceID: [16]byte{3}, Len: 1}, {TraceID: [16]byte{1}, Len: 1}, {TraceID: [16]byte{2}, Len: 1}}
	data := Encode([]string{"blocks/a"}, entries)
	_, got, err := Decode(data, blockKeys)
	require.NoError(t, err)
	for i, want := range []byte{1, 2, 3} {
		assert.Equal(t, want, got[i].TraceID[0])
	}
	var sb strings.Builder
	w := NewWriter(&sb, []string{"blocks/a"})
	for _, e := range got {
		require.NoError(t, w.Add(e))
	}
	require.NoError(t, w.Finish())
	assert.Equal(t, string(data), sb.String())
}

func TestDecodeRefusesCorruptRuns(t *testing.T) {
	good := Encode([]string{"blocks/a"}, []Entry{{TraceID: [16]byte{1}, Len: 1}})
	for name, data := range map[string][]byte{
		"a key the reader would not fetch": Encode([]string{"../../etc/passwd"}, []Entry{{Len: 1}}),
		"truncated":                        good[:len(good)-1],
		"empty":                            nil,
		"zero-length page":                 Encode([]string{"blocks/a"}, []Entry{{Len: 0}}),
		"page over the read bound":         Encode([]string{"blocks/a"}, []Entry{{Len: MaxPageStored + 1}}),
		"entry naming a missing key":       Encode([]string{"blocks/a"}, []Entry{{Key: 1, Len: 1}}),
	} {
		_, _, err := Decode(data, blockKeys)
		assert.ErrorIs(t, err, ErrCorrupt, name)
	}
}
