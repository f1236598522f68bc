package archive

import (
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// FuzzDecodeRun: a lookup run from a corrupt or hostile object never
// panics, and whatever parses names only block keys.
func FuzzDecodeRun(f *testing.F) {
	keys := []string{newWriteKeys(time.Unix(1, 0), KindSpans, DefaultFormat).Block}
	f.Add(encodeRun(keys, []runEntry{{TraceID: tid(1), Len: 3}, {TraceID: tid(2), Len: 4}}))
	f.Add([]byte(runMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, entries, err := decodeRun(data)
		if err != nil {
			return
		}
		for _, k := range h.keys {
			if _, _, ok := ParseBlockKey(k); !ok {
				t.Fatalf("run names %q", k)
			}
		}
		for _, e := range entries {
			if int(e.Key) >= len(h.keys) {
				t.Fatalf("entry names key %d of %d", e.Key, len(h.keys))
			}
			lo, hi := h.span(e.TraceID)
			if lo > hi || hi > h.entries {
				t.Fatalf("span [%d,%d) of %d", lo, hi, h.entries)
			}
		}
	})
}

// FuzzPaginate: arbitrary bytes never panic the pager; a valid TracesData
// is cut into pages that together hold every span.
func FuzzPaginate(f *testing.F) {
	raw, _ := (&ptrace.ProtoMarshaler{}).MarshalTraces(testTraces())
	f.Add(raw, 100)
	f.Add([]byte{0x0a, 0x02, 0x12, 0x00}, 10)
	f.Fuzz(func(t *testing.T, data []byte, target int) {
		pages, pos, err := collectPages(data, max(target, 1))
		if err != nil {
			return
		}
		td, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(data)
		if err != nil {
			return
		}
		n := 0
		for _, p := range pages {
			pt, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(p)
			if err != nil {
				t.Fatalf("page does not decode: %v", err)
			}
			n += pt.SpanCount()
		}
		if n != td.SpanCount() || len(pos) != n {
			t.Fatalf("pages hold %d spans (%d positions), input %d", n, len(pos), td.SpanCount())
		}
	})
}
