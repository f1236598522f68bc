package traceql

import "testing"

// FuzzParse: no input panics; what parses renders canonically and reads
// back to the same canonical form; evaluating it never panics.
func FuzzParse(f *testing.F) {
	for _, tc := range parseTable {
		f.Add(tc.q)
	}
	tr := sampleTrace()
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Parse(s)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Parse(%q): error of type %T", s, err)
			}
			return
		}
		canon := q.String()
		again, err := Parse(canon)
		if err != nil {
			t.Fatalf("canonical %q of %q does not parse: %v", canon, s, err)
		}
		if again.String() != canon {
			t.Fatalf("canonical form not stable: %q -> %q", canon, again.String())
		}
		_ = q.Match(tr)
	})
}
