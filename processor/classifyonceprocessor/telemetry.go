package classifyonceprocessor

import (
	"context"
	"fmt"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/sandwatch/sandwatch/internal/sandboxevent"
	"github.com/sandwatch/sandwatch/processor/classifyonceprocessor/internal/metadata"
)

// telemetry publishes, once per batch, what its scope did: records
// classified once for all consumers, classifications the other consumers
// were spared, and records of batches too large to keep.
type telemetry struct {
	classified, reused, oversize metric.Int64Counter
	signal                       metric.AddOption
}

func newTelemetry(set component.TelemetrySettings, signal string) (*telemetry, error) {
	m := set.MeterProvider.Meter(metadata.ScopeName)
	t := &telemetry{signal: metric.WithAttributeSet(attribute.NewSet(attribute.String("signal", signal)))}
	var err error
	if t.classified, err = m.Int64Counter("otelcol_processor_classify_once_records_classified",
		metric.WithDescription("Records classified once into a batch scope for every consumer of the batch."), metric.WithUnit("{records}")); err != nil {
		return nil, fmt.Errorf("classify_once: creating classified counter: %w", err)
	}
	if t.reused, err = m.Int64Counter("otelcol_processor_classify_once_records_reused",
		metric.WithDescription("Records a consumer read from the batch scope instead of classifying them again."), metric.WithUnit("{records}")); err != nil {
		return nil, fmt.Errorf("classify_once: creating reused counter: %w", err)
	}
	if t.oversize, err = m.Int64Counter("otelcol_processor_classify_once_records_oversize",
		metric.WithDescription("Records of batches above max_records (or beyond the scope's results), classified by each consumer itself."), metric.WithUnit("{records}")); err != nil {
		return nil, fmt.Errorf("classify_once: creating oversize counter: %w", err)
	}
	return t, nil
}

func (t *telemetry) record(ctx context.Context, st sandboxevent.ScopeStats) {
	if st.Classified > 0 {
		t.classified.Add(ctx, st.Classified, t.signal)
	}
	if st.Reused > 0 {
		t.reused.Add(ctx, st.Reused, t.signal)
	}
	if st.Oversize > 0 {
		t.oversize.Add(ctx, st.Oversize, t.signal)
	}
}
