package scrubprocessor

import (
	"context"
	"fmt"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/sandwatch/sandwatch/processor/scrubprocessor/internal/metadata"
	"github.com/sandwatch/sandwatch/processor/scrubprocessor/internal/pii"
)

// Extra counter slots after the scanner's rules: whole values redacted
// for their key, for their size, or for their nesting depth.
const (
	extraSensitiveKey = iota
	extraOversize
	extraDepth
	numExtra
)

var extraNames = [numExtra]string{"sensitive-key", "oversize", "depth-limit"}

// telemetry publishes counts per batch (never per span): redactions by
// rule (the rule set is bounded, so is the cardinality), values scanned,
// and pii treatments applied.
type telemetry struct {
	redactions metric.Int64Counter
	scanned    metric.Int64Counter
	piiValues  metric.Int64Counter
	ruleOpts   []metric.AddOption
	piiOpts    [len(pii.Names)]metric.AddOption
	pool       sync.Pool // *stats
	nSlots     int
}

// stats accumulates one batch's counts.
type stats struct {
	counts  []uint64 // per rule, then the extra slots
	scanned int64
	pii     [len(pii.Names)]uint64
}

func newTelemetry(set component.TelemetrySettings, ruleNames []string) (*telemetry, error) {
	m := set.MeterProvider.Meter(metadata.ScopeName)
	t := &telemetry{nSlots: len(ruleNames) + numExtra}
	var err error
	if t.redactions, err = m.Int64Counter("otelcol_processor_scrub_redactions",
		metric.WithDescription("Secrets redacted, by rule."), metric.WithUnit("{redactions}")); err != nil {
		return nil, fmt.Errorf("scrub: creating redactions counter: %w", err)
	}
	if t.scanned, err = m.Int64Counter("otelcol_processor_scrub_values_scanned",
		metric.WithDescription("String values scanned for secrets."), metric.WithUnit("{values}")); err != nil {
		return nil, fmt.Errorf("scrub: creating scanned counter: %w", err)
	}
	if t.piiValues, err = m.Int64Counter("otelcol_processor_scrub_pii_values",
		metric.WithDescription("Values templated, obfuscated or hashed, by treatment."), metric.WithUnit("{values}")); err != nil {
		return nil, fmt.Errorf("scrub: creating pii counter: %w", err)
	}
	names := append(append([]string{}, ruleNames...), extraNames[:]...)
	for _, n := range names {
		t.ruleOpts = append(t.ruleOpts, metric.WithAttributeSet(attribute.NewSet(attribute.String("rule", n))))
	}
	for i, n := range pii.Names {
		t.piiOpts[i] = metric.WithAttributeSet(attribute.NewSet(attribute.String("treatment", n)))
	}
	t.pool.New = func() any { return &stats{counts: make([]uint64, t.nSlots)} }
	return t, nil
}

func (t *telemetry) get() *stats { return t.pool.Get().(*stats) }

// flush records st and returns it to the pool.
func (t *telemetry) flush(ctx context.Context, st *stats) {
	if st.scanned > 0 {
		t.scanned.Add(ctx, st.scanned)
	}
	for i, c := range st.counts {
		if c > 0 {
			t.redactions.Add(ctx, int64(c), t.ruleOpts[i])
			st.counts[i] = 0
		}
	}
	for i, c := range st.pii {
		if c > 0 {
			t.piiValues.Add(ctx, int64(c), t.piiOpts[i])
		}
	}
	st.scanned, st.pii = 0, [len(pii.Names)]uint64{}
	t.pool.Put(st)
}
