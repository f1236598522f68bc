package sandboxmetricsconnector

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/sandwatch/sandwatch/connector/sandboxmetricsconnector/internal/metadata"

	"github.com/sandwatch/sandwatch/internal/samples"
)

// newTestConnector builds the shared traces+logs connector through the
// factory, as the collector does, with a sink as the metrics pipeline.
func newTestConnector(t *testing.T, cfg *Config) (*sandboxMetrics, *consumertest.MetricsSink) {
	t.Helper()
	require.NoError(t, cfg.Validate())
	sink := &consumertest.MetricsSink{}
	f := NewFactory()
	set := connectortest.NewNopSettings(metadata.Type)
	tc, err := f.CreateTracesToMetrics(context.Background(), set, cfg, sink)
	require.NoError(t, err)
	lc, err := f.CreateLogsToMetrics(context.Background(), set, cfg, sink)
	require.NoError(t, err)
	require.Same(t, tc, lc, "traces and logs share one instance per config")
	require.NoError(t, tc.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, lc.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() {
		require.NoError(t, tc.Shutdown(context.Background()))
		require.NoError(t, lc.Shutdown(context.Background()))
	})
	return tc.(*sandboxMetrics), sink
}

// points flattens the last flush into "metric{k=v,...}" -> value.
func points(md pmetric.Metrics) map[string]float64 {
	out := map[string]float64{}
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		sms := rms.At(i).ScopeMetrics()
		for j := 0; j < sms.Len(); j++ {
			ms := sms.At(j).Metrics()
			for k := 0; k < ms.Len(); k++ {
				m := ms.At(k)
				switch m.Type() {
				case pmetric.MetricTypeSum:
					for d := 0; d < m.Sum().DataPoints().Len(); d++ {
						dp := m.Sum().DataPoints().At(d)
						out[m.Name()+"{"+attrString(dp.Attributes())+"}"] = float64(dp.IntValue())
					}
				case pmetric.MetricTypeHistogram:
					for d := 0; d < m.Histogram().DataPoints().Len(); d++ {
						dp := m.Histogram().DataPoints().At(d)
						out[m.Name()+"_count{"+attrString(dp.Attributes())+"}"] = float64(dp.Count())
					}
				}
			}
		}
	}
	return out
}

func attrString(m pcommon.Map) string {
	var parts []string
	for k, v := range m.All() {
		parts = append(parts, k+"="+v.AsString())
	}
	return strings.Join(parts, ",")
}

func TestSamplesToMetrics(t *testing.T) {
	cfg := createDefaultConfig()
	c, sink := newTestConnector(t, cfg)
	ctx := context.Background()
	for _, name := range []string{"goose.json", "wazero.json", "semconv.json"} {
		require.NoError(t, c.ConsumeTraces(ctx, samples.Traces(t, name)))
	}
	for _, name := range []string{"js_capability_audit.json", "container_monitor.json"} {
		require.NoError(t, c.ConsumeLogs(ctx, samples.Logs(t, name)))
	}
	c.flush(ctx)
	require.Len(t, sink.AllMetrics(), 1)
	got := points(sink.AllMetrics()[0])

	want := map[string]float64{
		// Goose: a wrapper root span, then fs, db, http, and an EACCES.
		"sandbox.invocations{extension=weather-sync,outcome=ok}":            1,
		"sandbox.operations{extension=weather-sync,kind=fs,outcome=ok}":     1,
		"sandbox.operations{extension=weather-sync,kind=fs,outcome=error}":  1,
		"sandbox.operations{extension=weather-sync,kind=db,outcome=ok}":     1,
		"sandbox.operations{extension=weather-sync,kind=http,outcome=ok}":   1,
		"sandbox.errors{extension=weather-sync,kind=fs,error_class=EACCES}": 1,
		"sandbox.http.responses{extension=weather-sync,status_class=2xx}":   1,
		"sandbox.operation.duration_count{extension=weather-sync,kind=fs}":  2,
		// wazero: allowlist decisions on http_call.
		"sandbox.capability.decisions{extension=ping-checker,capability=http,decision=allowed}": 1,
		"sandbox.capability.decisions{extension=ping-checker,capability=http,decision=denied}":  1,
		"sandbox.operations{extension=ping-checker,kind=http,outcome=denied}":                   1,
		"sandbox.egress.operations{extension=ping-checker,kind=http}":                           1,
		// semconv: a 4xx.
		"sandbox.errors{extension=pdf-indexer,kind=http,error_class=http_4xx}": 1,
		"sandbox.http.responses{extension=pdf-indexer,status_class=4xx}":       1,
		"sandbox.operations{extension=pdf-indexer,kind=exec,outcome=ok}":       1,
		// JS capability audit logs.
		"sandbox.capability.decisions{extension=report-builder,capability=fetch,decision=allowed}":               2,
		"sandbox.capability.decisions{extension=report-builder,capability=fetch,decision=denied}":                1,
		"sandbox.capability.decisions{extension=report-builder,capability=function_constructor,decision=denied}": 1,
		"sandbox.capability.decisions{extension=report-builder,capability=shadow_realm,decision=denied}":         1,
		"sandbox.capability.decisions{extension=report-builder,capability=vfs,decision=denied}":                  1,
		"sandbox.capability.decisions{extension=report-builder,capability=ffi.open,decision=allowed}":            1,
		"sandbox.operations{extension=report-builder,kind=capability,outcome=denied}":                            4,
		// Container monitor: firewall decisions.
		"sandbox.capability.decisions{extension=coi-abc12345-1,capability=net,decision=denied}": 1,
		"sandbox.operations{extension=coi-abc12345-1,kind=dns,outcome=ok}":                      1,
		"sandbox.egress.operations{extension=coi-abc12345-1,kind=net}":                          2,
	}
	for k, v := range want {
		assert.Equal(t, v, got[k], k)
	}
	for k := range got {
		assert.NotContains(t, k, "sandbox.target.operations", "targets are opt-in")
	}

	// Exemplars on the goose EACCES error point carry its trace and span.
	found := false
	ms := sink.AllMetrics()[0].ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	for i := 0; i < ms.Len(); i++ {
		if ms.At(i).Name() != "sandbox.errors" {
			continue
		}
		dps := ms.At(i).Sum().DataPoints()
		for d := 0; d < dps.Len(); d++ {
			if v, _ := dps.At(d).Attributes().Get("error_class"); v.Str() == "EACCES" {
				require.Equal(t, 1, dps.At(d).Exemplars().Len())
				ex := dps.At(d).Exemplars().At(0)
				assert.Equal(t, "b00c97c768602cb7dc0f555d9c7d2fd9", ex.TraceID().String())
				assert.False(t, ex.SpanID().IsEmpty())
				found = true
			}
		}
	}
	assert.True(t, found)
	assert.False(t, c.Capabilities().MutatesData)
}

func TestTargetsOptInThroughConfig(t *testing.T) {
	cfg := createDefaultConfig()
	cfg.Targets.Enabled = true
	c, sink := newTestConnector(t, cfg)
	require.NoError(t, c.ConsumeTraces(context.Background(), samples.Traces(t, "goose.json")))
	c.flush(context.Background())
	got := points(sink.AllMetrics()[0])
	assert.Equal(t, 1.0, got["sandbox.target.operations{extension=weather-sync,target_type=host,target=api.weather.example.com}"])
	assert.Equal(t, 1.0, got["sandbox.target.operations{extension=weather-sync,target_type=table,target=forecasts}"])
	for k := range got {
		assert.NotContains(t, k, "target_type=path", "paths were not selected")
	}
}

func TestShutdownFlushes(t *testing.T) {
	cfg := createDefaultConfig()
	sink := &consumertest.MetricsSink{}
	tc, err := NewFactory().CreateTracesToMetrics(context.Background(), connectortest.NewNopSettings(metadata.Type), cfg, sink)
	require.NoError(t, err)
	require.NoError(t, tc.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, tc.ConsumeTraces(context.Background(), samples.Traces(t, "goose.json")))
	require.NoError(t, tc.Shutdown(context.Background()))
	require.Len(t, sink.AllMetrics(), 1)
	// Shutdown without Start must not hang or panic.
	tc2, err := NewFactory().CreateTracesToMetrics(context.Background(), connectortest.NewNopSettings(metadata.Type), createDefaultConfig(), sink)
	require.NoError(t, err)
	require.NoError(t, tc2.Shutdown(context.Background()))
}
