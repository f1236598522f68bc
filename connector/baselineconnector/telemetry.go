package baselineconnector

import (
	"context"
	"fmt"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/metadata"
)

// telemetry is the connector's own, low-cardinality telemetry (no
// extension label: that lives in the sandbox.anomalies output metric).
type telemetry struct {
	anomalies metric.Int64Counter
}

func newTelemetry(set component.TelemetrySettings) (*telemetry, error) {
	m := set.MeterProvider.Meter(metadata.ScopeName)
	c, err := m.Int64Counter("sandwatch_baseline_anomalies", metric.WithDescription("Anomalies reported by the baseline connector, by type and severity."))
	if err != nil {
		return nil, fmt.Errorf("counter: %w", err)
	}
	return &telemetry{anomalies: c}, nil
}

func (t *telemetry) anomaly(typ, sev string, n int64) {
	t.anomalies.Add(context.Background(), n, metric.WithAttributes(attribute.String("type", typ), attribute.String("severity", sev)))
}
