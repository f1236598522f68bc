package archive

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAppendIndexLineMatchesJSON(t *testing.T) {
	for _, e := range []IndexEntry{
		{},
		{Key: "blocks/x", Kind: KindSpans, Pages: [][2]uint64{}},
		{TraceID: "0af7651916cd43dd8448eb211c80319c", Key: "blocks/2026/11/29/08/abc.otlp.pb.zst", Kind: KindSpans,
			Pages: [][2]uint64{{0, 4096}, {4096, 18446744073709551615}}, Count: 7, Bytes: 1234, Start: 1, End: 1 << 62,
			Extension: "acme/weather", RootName: "invoke tool"},
		{Key: "k", Kind: KindLogs, Pages: [][2]uint64{{1, 2}}, Count: -1, Bytes: -5,
			Extension: "quote\" back\\slash <html> & \u2028 \x01 tab\t", RootName: string([]byte{0xff, 'a', 0xc3, 0x28}) + "é日本"},
	} {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		require.NoError(t, enc.Encode(&e))
		require.Equal(t, want.String(), string(appendIndexLine(nil, &e)))
	}
}
