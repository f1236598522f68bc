package otlppage

import (
	"path/filepath"
	"testing"
)

// BenchmarkPaginate cuts the golden simulator and secret-heavy inputs
// (3,000 spans each) into 128 KiB pages; "reused" keeps one Pager, as the
// archive does through a pool.
func BenchmarkPaginate(b *testing.B) {
	for _, in := range []string{"simulator", "secret-heavy"} {
		raw := readGoldenInput(b, filepath.Join("testdata", "golden", in+".in.zst"))
		emit := func([]byte) error { return nil }
		b.Run(in+"/fresh", func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Paginate(raw, 128<<10, emit); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(in+"/reused", func(b *testing.B) {
			var p Pager
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Paginate(raw, 128<<10, emit); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
