package archive

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// The fast decoder reads what appendIndexLine writes exactly as
// encoding/json does, and refuses (for the fallback) what it cannot.
func TestDecodeIndexLineMatchesJSON(t *testing.T) {
	for _, e := range []IndexEntry{
		{TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", Key: "blocks/2026-12-01/10/1-ab.spans.pb.zst", Kind: KindSpans,
			Pages: [][2]uint64{{0, 1200}, {1200, 33}}, Count: 7, Bytes: 900, Start: 17, End: 99, Extension: "weather-001", RootName: "invoke"},
		{Key: "blocks/x", Kind: KindLogs, Count: 1},
		{TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", Key: "k", Kind: KindSpans, Pages: [][2]uint64{}, Extension: `quo"te`, RootName: "ünï"},
		{Key: "k", Kind: KindSpans, RootName: "back\\slash"},
	} {
		line := appendIndexLine(nil, &e)
		line = line[:len(line)-1]
		var want IndexEntry
		require.NoError(t, json.Unmarshal(line, &want))
		var got IndexEntry
		if decodeIndexLine(line, &got, nil) {
			require.Equal(t, want, got, "%s", line)
			var again IndexEntry
			require.True(t, decodeIndexLine(line, &again, &got), "with the line itself as the previous one")
			require.Equal(t, want, again)
		} else {
			require.Contains(t, string(line), `\`, "only escaped strings fall back: %s", line)
		}
	}
	var e IndexEntry
	for _, bad := range []string{``, `{}`, `{"key":"k","kind":"spans","pages":[[1,2]],"count":1}`, `{"key":"k","kind":"spans","pages":null,"count":1,"bytes":2,"other":3}`,
		`{"key":"k","kind":"spans","pages":[[1,2],],"count":1,"bytes":2}`, `{"key":"k","kind":"spans","pages":null,"count":-1,"bytes":2}`} {
		require.False(t, decodeIndexLine([]byte(bad), &e, nil), bad)
	}
}

func FuzzDecodeIndexLine(f *testing.F) {
	e := IndexEntry{TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", Key: "k", Kind: KindSpans, Pages: [][2]uint64{{1, 2}}, Count: 3, Bytes: 4, Start: 5, End: 6, Extension: "x", RootName: "r"}
	f.Add(appendIndexLine(nil, &e))
	f.Fuzz(func(t *testing.T, line []byte) {
		var got, want IndexEntry
		if decodeIndexLine(line, &got, nil) {
			// What the fast path accepts, encoding/json reads the same.
			require.NoError(t, json.Unmarshal(line, &want), "%q", line)
			require.Equal(t, want, got)
		}
	})
}
