package lookuprun

import "testing"

// FuzzDecode: arbitrary bytes never panic the decoder, and whatever it
// accepts is self-consistent: keys pass the validator, entries name keys
// the footer holds, and every entry's search span stays inside the run.
func FuzzDecode(f *testing.F) {
	f.Add(Encode([]string{"blocks/a"}, []Entry{{TraceID: [16]byte{1}, Len: 3}, {TraceID: [16]byte{2}, Len: 4}}))
	f.Add([]byte(magic))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, entries, err := Decode(data, blockKeys)
		if err != nil {
			return
		}
		for _, k := range h.Keys {
			if !blockKeys(k) {
				t.Fatalf("run names %q", k)
			}
		}
		for _, e := range entries {
			if int(e.Key) >= len(h.Keys) {
				t.Fatalf("entry names key %d of %d", e.Key, len(h.Keys))
			}
			lo, hi := h.Span(e.TraceID)
			if lo > hi || hi > h.Entries {
				t.Fatalf("span [%d,%d) of %d", lo, hi, h.Entries)
			}
		}
	})
}
