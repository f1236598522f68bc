package classifyonceprocessor

import (
	"context"
	"reflect"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/sandwatch/sandwatch/internal/sandboxevent"
	"github.com/sandwatch/sandwatch/internal/simulate"
	"github.com/sandwatch/sandwatch/processor/classifyonceprocessor/internal/metadata"
)

// consumerOf is a sandwatch consumer as the connectors are: its own
// classifier, EachSpanShared/EachLogShared, and what it saw.
type consumerOf struct {
	c     *sandboxevent.Classifier
	spans []sandboxevent.Event
	logs  []sandboxevent.Event
}

func (k *consumerOf) traces() consumer.Traces {
	f, _ := consumer.NewTraces(func(ctx context.Context, td ptrace.Traces) error {
		k.c.EachSpanShared(ctx, td, func(_ ptrace.Span, ev *sandboxevent.Event, _ ptrace.ResourceSpans, _ ptrace.ScopeSpans) {
			k.spans = append(k.spans, *ev)
		})
		return nil
	})
	return f
}

func (k *consumerOf) logsConsumer() consumer.Logs {
	f, _ := consumer.NewLogs(func(ctx context.Context, ld plog.Logs) error {
		k.c.EachLogShared(ctx, ld, func(_ plog.LogRecord, ev *sandboxevent.Event, _ plog.ResourceLogs, _ plog.ScopeLogs) {
			k.logs = append(k.logs, *ev)
		})
		return nil
	})
	return f
}

// fanout calls each consumer in turn with the same batch, as the
// collector's fan-out does for consumers that do not mutate data.
func fanoutTraces(cs ...consumer.Traces) consumer.Traces {
	f, _ := consumer.NewTraces(func(ctx context.Context, td ptrace.Traces) error {
		for _, c := range cs {
			if err := c.ConsumeTraces(ctx, td); err != nil {
				return err
			}
		}
		return nil
	})
	return f
}

func fanoutLogs(cs ...consumer.Logs) consumer.Logs {
	f, _ := consumer.NewLogs(func(ctx context.Context, ld plog.Logs) error {
		for _, c := range cs {
			if err := c.ConsumeLogs(ctx, ld); err != nil {
				return err
			}
		}
		return nil
	})
	return f
}

func settings(reader *sdkmetric.ManualReader) component.TelemetrySettings {
	set := processortest.NewNopSettings(metadata.Type)
	set.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	return set.TelemetrySettings
}

func counters(t *testing.T, reader *sdkmetric.ManualReader) map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if sum, ok := m.Data.(metricdata.Sum[int64]); ok {
				for _, dp := range sum.DataPoints {
					signal, _ := dp.Attributes.Value("signal")
					out[m.Name+"/"+signal.AsString()] += dp.Value
				}
			}
		}
	}
	return out
}

// Three consumers behind the processor: each sees what it would have
// classified itself, the batch is classified once, and the processor
// counts it.
func TestThreeConsumersShareOneClassification(t *testing.T) {
	gen := simulate.NewAgents(simulate.AgentOptions{Seed: 3, Agents: 12, Content: 0.5, Meta: 0.5, Noise: 1})
	reader := sdkmetric.NewManualReader()
	set := processortest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = settings(reader)
	cfg := createDefaultConfig()

	var shared, alone [3]*consumerOf
	var sharedT, aloneT [3]consumer.Traces
	var sharedL, aloneL [3]consumer.Logs
	for i := range shared {
		shared[i] = &consumerOf{c: sandboxevent.MustNew(sandboxevent.Config{})}
		alone[i] = &consumerOf{c: sandboxevent.MustNew(sandboxevent.Config{})}
		sharedT[i], aloneT[i] = shared[i].traces(), alone[i].traces()
		sharedL[i], aloneL[i] = shared[i].logsConsumer(), alone[i].logsConsumer()
	}
	tp, err := NewFactory().CreateTraces(context.Background(), set, cfg, fanoutTraces(sharedT[:]...))
	if err != nil {
		t.Fatal(err)
	}
	lp, err := NewFactory().CreateLogs(context.Background(), set, cfg, fanoutLogs(sharedL[:]...))
	if err != nil {
		t.Fatal(err)
	}
	if tp.Capabilities().MutatesData || lp.Capabilities().MutatesData {
		t.Fatal("classify_once must not claim to mutate data (the fan-out would clone)")
	}
	spans, records := 0, 0
	for i := 0; i < 40; i++ {
		td, ld := gen.Session(i, time.Unix(1795000000, 0))
		spans += td.SpanCount()
		records += ld.LogRecordCount()
		if err := tp.ConsumeTraces(context.Background(), td); err != nil {
			t.Fatal(err)
		}
		if err := lp.ConsumeLogs(context.Background(), ld); err != nil {
			t.Fatal(err)
		}
		_ = fanoutTraces(aloneT[:]...).ConsumeTraces(context.Background(), td)
		_ = fanoutLogs(aloneL[:]...).ConsumeLogs(context.Background(), ld)
	}
	if spans == 0 || records == 0 {
		t.Fatalf("the agent mix gave %d spans and %d log records; the test needs both", spans, records)
	}
	for i := range shared {
		if !reflect.DeepEqual(shared[i].spans, alone[i].spans) || !reflect.DeepEqual(shared[i].logs, alone[i].logs) {
			t.Fatalf("consumer %d saw other events behind classify_once than alone", i)
		}
	}
	got := counters(t, reader)
	want := map[string]int64{
		"otelcol_processor_classify_once_records_classified/traces": int64(spans),
		"otelcol_processor_classify_once_records_reused/traces":     int64(2 * spans),
		"otelcol_processor_classify_once_records_classified/logs":   int64(records),
		"otelcol_processor_classify_once_records_reused/logs":       int64(2 * records),
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("telemetry %v, want %v", got, want)
	}
}

// A batch above max_records passes through; its consumers classify it
// themselves, and the processor says so.
func TestOversizeBatchPassesThrough(t *testing.T) {
	td, _ := simulate.New(simulate.Options{Seed: 1, Extensions: 5}).Invocation(0, time.Unix(1795000000, 0))
	reader := sdkmetric.NewManualReader()
	set := processortest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = settings(reader)
	a, b := &consumerOf{c: sandboxevent.MustNew(sandboxevent.Config{})}, &consumerOf{c: sandboxevent.MustNew(sandboxevent.Config{})}
	tp, err := NewFactory().CreateTraces(context.Background(), set, &Config{MaxRecords: td.SpanCount() - 1}, fanoutTraces(a.traces(), b.traces()))
	if err != nil {
		t.Fatal(err)
	}
	if err := tp.ConsumeTraces(context.Background(), td); err != nil {
		t.Fatal(err)
	}
	if len(a.spans) != td.SpanCount() || len(b.spans) != td.SpanCount() {
		t.Fatalf("consumers saw %d and %d spans, want %d each", len(a.spans), len(b.spans), td.SpanCount())
	}
	got := counters(t, reader)
	if got["otelcol_processor_classify_once_records_oversize/traces"] != int64(2*td.SpanCount()) || got["otelcol_processor_classify_once_records_classified/traces"] != 0 {
		t.Fatalf("telemetry %v: want both consumers' spans counted as oversize", got)
	}
}

func TestConfig(t *testing.T) {
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	if err := cfg.Validate(); err != nil {
		t.Fatalf("the default config is invalid: %v", err)
	}
	for _, tc := range []struct {
		raw  map[string]any
		want string
	}{
		{map[string]any{"max_records": 0}, "max_records: must be between 1 and 1048576, got 0"},
		{map[string]any{"max_records": 1 << 21}, "max_records: must be between 1 and 1048576, got 2097152"},
	} {
		cfg := createDefaultConfig()
		if err := confmap.NewFromStringMap(tc.raw).Unmarshal(cfg); err != nil {
			t.Fatal(err)
		}
		err := cfg.Validate()
		if err == nil || err.Error() != tc.want {
			t.Errorf("%v: error %v, want %q", tc.raw, err, tc.want)
		}
	}
	cfg = createDefaultConfig()
	if err := confmap.NewFromStringMap(map[string]any{"max_record": 5}).Unmarshal(cfg); err == nil {
		t.Error("a misspelt key was accepted")
	}
}
