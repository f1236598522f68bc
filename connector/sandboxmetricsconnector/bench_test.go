package sandboxmetricsconnector

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/connector/spanmetricsconnector"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/connector/sandboxmetricsconnector/internal/metadata"
	"github.com/sandwatch/sandwatch/internal/simulate"
)

// benchBatch is a realistic mix from the simulator: ~1000 spans over 200
// extensions of every host style.
func benchBatch(tb testing.TB) ptrace.Traces {
	td, _ := simulate.New(simulate.Options{Seed: 1, Extensions: 200}).Batch(0, 1000, time.Unix(1_795_000_000, 0))
	return td
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runConnector feeds td b.N times and reports spans per wall second,
// spans per CPU-second of the process, and allocations per span.
func runConnector(b *testing.B, c connector.Traces, td ptrace.Traces) {
	require.NoError(b, c.Start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(b, c.Shutdown(context.Background())) }()
	spans := td.SpanCount()
	ctx := context.Background()
	require.NoError(b, c.ConsumeTraces(ctx, td)) // warm: series exist
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if err := c.ConsumeTraces(ctx, td); err != nil {
			b.Fatal(err)
		}
	}
	cpu := cpuTime() - cpu0
	b.StopTimer()
	total := float64(b.N * spans)
	b.ReportMetric(total/b.Elapsed().Seconds(), "spans/s")
	b.ReportMetric(total/cpu.Seconds(), "spans/cpu-s")
}

func newSandboxMetricsBench(tb testing.TB) connector.Traces {
	cfg := createDefaultConfig()
	cfg.FlushInterval = time.Hour // the benchmark measures ingestion only
	c, err := NewFactory().CreateTracesToMetrics(context.Background(),
		connectortest.NewNopSettings(metadata.Type), cfg, consumertest.NewNop())
	require.NoError(tb, err)
	return c
}

// newSpanMetricsBench is contrib spanmetrics with the dimensions that carry
// the same information: the extension id under each host's key, the block
// type (kind), the error code and the HTTP status (outcome, error class),
// and the allowlist/capability decisions; exemplars on, as ours.
func newSpanMetricsBench(tb testing.TB) connector.Traces {
	f := spanmetricsconnector.NewFactory()
	cfg := f.CreateDefaultConfig().(*spanmetricsconnector.Config)
	cfg.MetricsFlushInterval = time.Hour
	for _, name := range []string{
		"extension.id", "sandbox.extension.id", "plugin.id", "block.type", "db.system.name",
		"fs.error", "error.type", "http.status_code", "http.response.status_code", "http_call.status_code",
		"http_call.allowlist.decision", "capability.name", "capability.decision",
	} {
		cfg.Dimensions = append(cfg.Dimensions, spanmetricsconnector.Dimension{Name: name})
	}
	cfg.Exemplars.Enabled = true
	cfg.AggregationCardinalityLimit = 2000
	c, err := f.CreateTracesToMetrics(context.Background(),
		connectortest.NewNopSettings(component.MustNewType("spanmetrics")), cfg, consumertest.NewNop())
	require.NoError(tb, err)
	return c
}

// BenchmarkSideBySide compares spans per CPU-second of this connector and
// contrib spanmetrics v0.165.0 on the same simulated batch, in one run:
//
//	go test -run '^$' -bench SideBySide -benchtime 3s ./connector/sandboxmetricsconnector/
func BenchmarkSideBySide(b *testing.B) {
	td := benchBatch(b)
	b.Run("sandbox_metrics", func(b *testing.B) { runConnector(b, newSandboxMetricsBench(b), td) })
	b.Run("spanmetrics", func(b *testing.B) { runConnector(b, newSpanMetricsBench(b), td) })
}

// BenchmarkConsumeTraces is the hot path alone.
func BenchmarkConsumeTraces(b *testing.B) {
	runConnector(b, newSandboxMetricsBench(b), benchBatch(b))
}
