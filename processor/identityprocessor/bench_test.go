package identityprocessor

import (
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/simulate"
	"github.com/sandwatch/sandwatch/processor/identityprocessor/internal/binding"
)

// BenchmarkCheck is the identity check's cost per span on requests shaped
// like the harness's high-rate load (1000 spans of 200 extensions per
// request), sent with one bearer token: the credential lookup once per
// request, the classification and the binding test per span. "bound" is
// a token bound to the 200 extension ids by name (the normal case: nothing
// flagged); "anything" one bound to "*" (records are not read);
// "mismatch" a token bound to none of them (every span flagged); "stamp"
// is tier 1's mode (the stamp per resource, nothing judged). Read ns/span.
func BenchmarkCheck(b *testing.B) {
	g := simulate.New(simulate.Options{Seed: 1, Extensions: 200})
	td, _ := g.Batch(0, 1000, time.Unix(1_795_000_000, 0))
	var all []string
	for _, e := range g.Extensions() {
		all = append(all, e.ID)
	}
	for _, c := range []struct {
		name, mode string
		exts       []string
	}{{"bound", ModeCheck, all}, {"anything", ModeCheck, []string{"*"}}, {"mismatch", ModeCheck, []string{"ext-none"}}, {"stamp", ModeStamp, all}} {
		b.Run(c.name, func(b *testing.B) {
			cfg := createDefaultConfig()
			cfg.Mode = c.mode
			cfg.Bindings = []binding.Entry{{Name: "sim", TokensSHA256: []string{digest("token-sim")}, Extensions: c.exts}}
			p, err := newIdentity(cfg, noTelemetry())
			if err != nil {
				b.Fatal(err)
			}
			ctx := withToken("token-sim")
			batches := make([]ptrace.Traces, 64)
			for i := range batches {
				batches[i] = ptrace.NewTraces()
				td.CopyTo(batches[i])
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := p.processTraces(ctx, batches[i%len(batches)]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*td.SpanCount()), "ns/span")
		})
	}
}
