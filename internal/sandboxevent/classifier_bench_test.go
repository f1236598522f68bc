package sandboxevent

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/samples"
)

// BenchmarkClassifySpan runs the classifier over the realistic mix of the
// testdata samples (Goose, wazero and semconv spans), reporting ns and
// allocations per span.
func BenchmarkClassifySpan(b *testing.B) {
	c := MustNew(Config{})
	type item struct {
		span ptrace.Span
		rc   *ResourceContext
	}
	var items []item
	for _, name := range []string{"goose.json", "wazero.json", "semconv.json"} {
		td := samples.Traces(b, name)
		for i := 0; i < td.ResourceSpans().Len(); i++ {
			rs := td.ResourceSpans().At(i)
			rc := &ResourceContext{}
			c.LoadResource(rs.Resource().Attributes(), rc)
			spans := rs.ScopeSpans().At(0).Spans()
			for k := 0; k < spans.Len(); k++ {
				items = append(items, item{spans.At(k), rc})
			}
		}
	}
	var ev Event
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		it := items[i%len(items)]
		c.ClassifySpan(it.span, it.rc, &ev)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "spans/s")
}
