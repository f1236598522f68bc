package sandboxmetricsconnector

import (
	"context"
	"fmt"
	"sync/atomic"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/metric"

	"github.com/sandwatch/sandwatch/connector/sandboxmetricsconnector/internal/aggregate"
	"github.com/sandwatch/sandwatch/connector/sandboxmetricsconnector/internal/metadata"
)

// telemetry is the connector's own, low-cardinality telemetry.
type telemetry struct {
	series       atomic.Int64
	overflowed   metric.Int64Counter
	unattributed metric.Int64Counter
	malformed    metric.Int64Counter
	repeats      metric.Int64Counter
	unresolved   metric.Int64Counter
	waiting      atomic.Int64
	reg          metric.Registration
}

func newTelemetry(set component.TelemetrySettings) (*telemetry, error) {
	meter := set.MeterProvider.Meter(metadata.ScopeName)
	t := &telemetry{}
	var err error
	if t.overflowed, err = meter.Int64Counter("otelcol_sandbox_metrics_overflowed_points",
		metric.WithDescription("Measurements folded into an overflow series because a metric reached its cardinality cap."),
		metric.WithUnit("{point}")); err != nil {
		return nil, fmt.Errorf("sandbox_metrics telemetry: %w", err)
	}
	if t.unattributed, err = meter.Int64Counter("otelcol_sandbox_metrics_unattributed",
		metric.WithDescription("Spans and log records without an extension id."),
		metric.WithUnit("{record}")); err != nil {
		return nil, fmt.Errorf("sandbox_metrics telemetry: %w", err)
	}
	if t.malformed, err = meter.Int64Counter("otelcol_sandbox_metrics_malformed_records",
		metric.WithDescription("Log records a parser flagged as malformed (attribute sandwatch.malformed), e.g. audit-log lines that are not a JSON object."),
		metric.WithUnit("{record}")); err != nil {
		return nil, fmt.Errorf("sandbox_metrics telemetry: %w", err)
	}
	if t.repeats, err = meter.Int64Counter("otelcol_sandbox_metrics_agent_repeats",
		metric.WithDescription("Agent tool-call records not counted because they report a call already counted (the agent's, the MCP client's and the MCP server's record of one call)."),
		metric.WithUnit("{record}")); err != nil {
		return nil, fmt.Errorf("sandbox_metrics telemetry: %w", err)
	}
	if t.unresolved, err = meter.Int64Counter("otelcol_sandbox_metrics_agent_unresolved",
		metric.WithDescription("Agent spans whose MCP server is known only through their session, recorded without it because the session's initialize span did not arrive within agents.session_wait (or agents.max_waiting was reached)."),
		metric.WithUnit("{span}")); err != nil {
		return nil, fmt.Errorf("sandbox_metrics telemetry: %w", err)
	}
	// Published at 0 from the start, so a dashboard shows 0, not no data.
	t.repeats.Add(context.Background(), 0)
	t.unresolved.Add(context.Background(), 0)
	waitingGauge, err := meter.Int64ObservableGauge("otelcol_sandbox_metrics_agent_waiting",
		metric.WithDescription("Agent spans held, waiting for their session's identity."),
		metric.WithUnit("{span}"))
	if err != nil {
		return nil, fmt.Errorf("sandbox_metrics telemetry: %w", err)
	}
	gauge, err := meter.Int64ObservableGauge("otelcol_sandbox_metrics_series",
		metric.WithDescription("Live series held by the sandbox_metrics connector, overflow series included."),
		metric.WithUnit("{series}"))
	if err != nil {
		return nil, fmt.Errorf("sandbox_metrics telemetry: %w", err)
	}
	if t.reg, err = meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		o.ObserveInt64(gauge, t.series.Load())
		o.ObserveInt64(waitingGauge, t.waiting.Load())
		return nil
	}, gauge, waitingGauge); err != nil {
		return nil, fmt.Errorf("sandbox_metrics telemetry: %w", err)
	}
	return t, nil
}

// record publishes the aggregator's stats (once per batch, not per span)
// and the batch's count of malformed records.
func (t *telemetry) record(ctx context.Context, st aggregate.Stats, malformed int64) {
	if malformed > 0 {
		t.malformed.Add(ctx, malformed)
	}
	t.series.Store(int64(st.Series))
	if st.Overflowed > 0 {
		t.overflowed.Add(ctx, int64(st.Overflowed))
	}
	if st.Unattributed > 0 {
		t.unattributed.Add(ctx, int64(st.Unattributed))
	}
}

// agentStats are the agent counters since the last report.
type agentStats struct{ repeats, unresolved, waiting int64 }

// agentStats takes the agent counters (c.mu is held).
func (c *sandboxMetrics) agentStats() agentStats {
	st := agentStats{repeats: c.repeats, unresolved: c.unresolved, waiting: int64(c.held.Len())}
	c.repeats, c.unresolved = 0, 0
	return st
}

func (t *telemetry) recordAgents(ctx context.Context, st agentStats) {
	if st.repeats > 0 {
		t.repeats.Add(ctx, st.repeats)
	}
	if st.unresolved > 0 {
		t.unresolved.Add(ctx, st.unresolved)
	}
	t.waiting.Store(st.waiting)
}

func (t *telemetry) shutdown() {
	if t.reg != nil {
		_ = t.reg.Unregister()
	}
}
