package identityprocessor

import (
	"context"
	"fmt"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/sandwatch/sandwatch/internal/identitymark"
	"github.com/sandwatch/sandwatch/processor/identityprocessor/internal/metadata"
)

var reasons = [...]string{identitymark.ReasonUnidentified, identitymark.ReasonExtensionNotBound, identitymark.ReasonHostNotBound, identitymark.ReasonForgedStamp}

// stats are one request's counts (published once per request, never per
// record).
type stats struct {
	flagged [len(reasons)]int64
}

func (s *stats) add(reason string) {
	for i, r := range reasons {
		if r == reason {
			s.flagged[i]++
			return
		}
	}
}

type telemetry struct {
	flagged     metric.Int64Counter
	stamps      metric.Int64Counter
	reloads     metric.Int64Counter
	reasonOpts  [len(reasons)]metric.AddOption
	reloadOK    metric.AddOption
	reloadError metric.AddOption
}

func newTelemetry(set component.TelemetrySettings) (*telemetry, error) {
	m := set.MeterProvider.Meter(metadata.ScopeName)
	t := &telemetry{
		reloadOK:    metric.WithAttributeSet(attribute.NewSet(attribute.String("result", "ok"))),
		reloadError: metric.WithAttributeSet(attribute.NewSet(attribute.String("result", "error"))),
	}
	for i, r := range reasons {
		t.reasonOpts[i] = metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", r)))
	}
	var err error
	if t.flagged, err = m.Int64Counter("otelcol_processor_identity_flagged_records",
		metric.WithDescription("Spans and log records whose sender's identity does not cover what they claim, by reason."), metric.WithUnit("{records}")); err != nil {
		return nil, fmt.Errorf("identity: creating flagged counter: %w", err)
	}
	if t.stamps, err = m.Int64Counter("otelcol_processor_identity_stamps_replaced",
		metric.WithDescription("Resources that arrived with an identity stamp not from a trusted forwarder (replaced by the sender's own identity)."), metric.WithUnit("{resources}")); err != nil {
		return nil, fmt.Errorf("identity: creating stamps counter: %w", err)
	}
	if t.reloads, err = m.Int64Counter("otelcol_processor_identity_bindings_reloads",
		metric.WithDescription("Reloads of the bindings file after a change, by result (error: the previous bindings stay)."), metric.WithUnit("{reloads}")); err != nil {
		return nil, fmt.Errorf("identity: creating reloads counter: %w", err)
	}
	return t, nil
}

func (t *telemetry) record(ctx context.Context, s *stats) {
	for i, n := range s.flagged {
		if n > 0 {
			t.flagged.Add(ctx, n, t.reasonOpts[i])
		}
	}
}

func (t *telemetry) stampReplaced() { t.stamps.Add(context.Background(), 1) }

func (t *telemetry) reloaded(ctx context.Context, ok bool) {
	if ok {
		t.reloads.Add(ctx, 1, t.reloadOK)
	} else {
		t.reloads.Add(ctx, 1, t.reloadError)
	}
}
