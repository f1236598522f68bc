package baselineconnector

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// sharedTelemetry is the shared store's own telemetry.
type sharedTelemetry struct {
	loads, saves metric.Int64Counter
	loadSeconds  metric.Float64Histogram
}

func newSharedTelemetry(m metric.Meter) (sharedTelemetry, error) {
	var t sharedTelemetry
	var err, e error
	t.loads, e = m.Int64Counter("sandwatch_baseline_shared_loads", metric.WithDescription("Profile loads from the shared store, by outcome (loaded, absent, current, late, timeout, error, overflow)."))
	err = errors.Join(err, e)
	t.saves, e = m.Int64Counter("sandwatch_baseline_shared_saves", metric.WithDescription("Profile objects written to the shared store, by outcome (ok, error)."))
	err = errors.Join(err, e)
	t.loadSeconds, e = m.Float64Histogram("sandwatch_baseline_shared_load_duration", metric.WithUnit("s"), metric.WithDescription("Time to read one stored profile."),
		metric.WithExplicitBucketBoundaries(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
	return t, errors.Join(err, e)
}

func (t sharedTelemetry) load(outcome string) {
	t.loads.Add(context.Background(), 1, metric.WithAttributes(attribute.String("outcome", outcome)))
}

func (t sharedTelemetry) save(outcome string) {
	t.saves.Add(context.Background(), 1, metric.WithAttributes(attribute.String("outcome", outcome)))
}

func (t sharedTelemetry) duration(d time.Duration) {
	t.loadSeconds.Record(context.Background(), d.Seconds())
}
