package otlppage

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// FuzzPaginate: arbitrary bytes never panic the pager; a valid TracesData
// is cut into pages that each decode and together hold every span.
func FuzzPaginate(f *testing.F) {
	raw, _ := (&ptrace.ProtoMarshaler{}).MarshalTraces(twoResources())
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
