package archive

import (
	"context"
	"testing"
	"time"

	"github.com/sandwatch/sandwatch/internal/simulate"
)

// BenchmarkCutterWrite is the forensic exporter's background cutter
// without the WAL read: one already-marshaled 16,384-span batch (as the
// WAL holds it) paginated, compressed, catalogued and written to file://
// (block, catalog, lookup run). The arrival marshal is outside the loop.
// Both mixes: the simulator's, and the secret-heavy one (a third of the
// spans HTTP calls with an api_key and a bearer JWT, unscrubbed here).
func BenchmarkCutterWrite(b *testing.B) {
	for _, mix := range []struct {
		name  string
		ratio float64
		f     Format
	}{
		{"simulator", 0, DefaultFormat}, {"secret-heavy", 0.33, DefaultFormat},
		// compression: s2, the operator's trade of bytes for CPU
		{"simulator-s2blocks", 0, Format{EncodingProto, CompressionS2}}, {"secret-heavy-s2blocks", 0.33, Format{EncodingProto, CompressionS2}},
	} {
		b.Run(mix.name, func(b *testing.B) {
			g := simulate.New(simulate.Options{Seed: 1, Extensions: 200})
			td, _ := g.Batch(0, 16384, time.Now())
			if mix.ratio > 0 {
				simulate.AddSecrets(td, mix.ratio, 1)
			}
			batch, err := EncodeTraces(td, Extensions{})
			if err != nil {
				b.Fatal(err)
			}
			bucket, _, err := Open(context.Background(), "file://"+b.TempDir(), S3Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer bucket.Close()
			w := &Writer{Bucket: bucket, Format: mix.f}
			var stored int64
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			for b.Loop() {
				st, err := w.Write(context.Background(), batch)
				if err != nil {
					b.Fatal(err)
				}
				stored = st.Bytes
			}
			cpu := cpuTime() - cpu0
			spans := float64(batch.Len() * b.N)
			b.ReportMetric(float64(cpu.Nanoseconds())/spans, "cpu-ns/span")
			b.ReportMetric(float64(stored)/float64(batch.Len()), "stored-B/span")
		})
	}
}
