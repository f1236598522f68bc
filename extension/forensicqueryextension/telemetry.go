package forensicqueryextension

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// telemetry is the extension's own metrics; a nil *telemetry records
// nothing (Handler without a meter, in tests).
type telemetry struct {
	requests metric.Int64Counter
	duration metric.Float64Histogram
	bytes    metric.Int64Counter
	spans    metric.Int64Counter
	partial  metric.Int64Counter
}

func newTelemetry(m metric.Meter) (*telemetry, error) {
	t := &telemetry{}
	var errs [5]error
	t.requests, errs[0] = m.Int64Counter("sandwatch_forensic_query_requests",
		metric.WithDescription("Search API requests by endpoint (search, tags, tag_values, buildinfo) and outcome (ok, bad_request, error, canceled)."), metric.WithUnit("{request}"))
	t.duration, errs[1] = m.Float64Histogram("sandwatch_forensic_query_request_duration",
		metric.WithDescription("Time to answer a search API request."), metric.WithUnit("s"))
	t.bytes, errs[2] = m.Int64Counter("sandwatch_forensic_query_inspected_bytes",
		metric.WithDescription("Archive bytes read by searches (catalogs, anomaly indexes, pages)."), metric.WithUnit("By"))
	t.spans, errs[3] = m.Int64Counter("sandwatch_forensic_query_inspected_spans",
		metric.WithDescription("Spans evaluated by searches."), metric.WithUnit("{span}"))
	t.partial, errs[4] = m.Int64Counter("sandwatch_forensic_query_partial_searches",
		metric.WithDescription("Searches stopped at search.max_bytes or search.timeout (answered with what they found)."), metric.WithUnit("{search}"))
	return t, errors.Join(errs[:]...)
}

func (t *telemetry) request(ctx context.Context, endpoint, outcome string, d time.Duration) {
	if t == nil {
		return
	}
	attrs := metric.WithAttributeSet(attribute.NewSet(attribute.String("endpoint", endpoint), attribute.String("outcome", outcome)))
	t.requests.Add(ctx, 1, attrs)
	t.duration.Record(ctx, d.Seconds(), attrs)
}

func (t *telemetry) inspected(ctx context.Context, bytes, spans int64, partial bool) {
	if t == nil {
		return
	}
	t.bytes.Add(ctx, bytes)
	t.spans.Add(ctx, spans)
	if partial {
		t.partial.Add(ctx, 1)
	}
}
