package baselineconnector

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/simulate"
)

// BenchmarkSharedStoreHotPath: the cost a shared store adds per span once
// profiles are in memory (every span asks whether its extension's profile
// is here and fresh), side by side with no store, on the realistic mix of
// 200 extensions after learning.
func BenchmarkSharedStoreHotPath(b *testing.B) {
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
	}{
		{"none", nil},
		{"shared", withShared("file://"+b.TempDir(), nil)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			r := newRig(b, tc.mutate)
			g := simulate.New(simulate.Options{Seed: 1, Extensions: 200})
			r.learn(g, 100)
			if r.b.shared != nil {
				r.settle()
			}
			batches := make([]ptrace.Traces, 64)
			spans := 0
			for i := range batches {
				batches[i], _ = g.Batch(i*7, 1000, r.clock)
				spans += batches[i].SpanCount()
			}
			b.ReportAllocs()
			b.ResetTimer()
			n := 0
			for i := 0; i < b.N; i++ {
				td := batches[i%len(batches)]
				_ = r.traces.ConsumeTraces(context.Background(), td)
				n += td.SpanCount()
				if i%len(batches) == len(batches)-1 {
					b.StopTimer()
					r.advance(time.Minute) // judge and forget the traces; profiles stay fresh
					r.b.tick(context.Background(), false)
					r.reset()
					b.StartTimer()
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/span")
		})
	}
}
