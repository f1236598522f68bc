package sandboxmetricsconnector

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
)

func TestDefaultConfigValid(t *testing.T) {
	require.NoError(t, createDefaultConfig().Validate())
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Config)
		want   string
	}{
		{"flush too short", func(c *Config) { c.FlushInterval = time.Millisecond }, "flush_interval"},
		{"temporality", func(c *Config) { c.AggregationTemporality = "DELTA!" }, "aggregation_temporality"},
		{"cap zero", func(c *Config) { c.MaxSeriesPerMetric = 0 }, "max_series_per_metric"},
		{"expiry negative", func(c *Config) { c.SeriesExpiration = -time.Second }, "series_expiration"},
		{"expiry below flush", func(c *Config) { c.SeriesExpiration = time.Second }, "shorter than flush_interval"},
		{"label length", func(c *Config) { c.MaxLabelLength = 1 }, "max_label_length"},
		{"no buckets", func(c *Config) { c.Histogram.Buckets = nil }, "histogram.buckets"},
		{"buckets unsorted", func(c *Config) { c.Histogram.Buckets = []time.Duration{time.Second, time.Millisecond} }, "histogram.buckets[1]"},
		{"bucket zero", func(c *Config) { c.Histogram.Buckets = []time.Duration{0} }, "histogram.buckets[0]"},
		{"exemplars", func(c *Config) { c.Exemplars.MaxPerDataPoint = 0 }, "exemplars.max_per_data_point"},
		{"target type", func(c *Config) { c.Targets.Enabled = true; c.Targets.Types = []string{"hosts"} }, "targets.types[0]"},
		{"top_k", func(c *Config) { c.Targets.Enabled = true; c.Targets.TopK = 0 }, "targets.top_k"},
		{"event model", func(c *Config) { c.EventModel.Profiles = []string{"nope"} }, "event_model.profiles"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := createDefaultConfig()
			tt.modify(cfg)
			err := cfg.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	// Exemplars disabled: their bound is not checked.
	cfg := createDefaultConfig()
	cfg.Exemplars = ExemplarsConfig{Enabled: false}
	assert.NoError(t, cfg.Validate())
}

func TestConfigUnmarshal(t *testing.T) {
	cm := confmap.NewFromStringMap(map[string]any{
		"flush_interval":          "1s",
		"aggregation_temporality": "delta",
		"max_series_per_metric":   50,
		"series_expiration":       "5m",
		"histogram":               map[string]any{"buckets": []any{"10ms", "100ms", "1s"}},
		"exemplars":               map[string]any{"max_per_data_point": 5},
		"targets":                 map[string]any{"enabled": true, "types": []any{"host"}, "top_k": 10},
		"event_model":             map[string]any{"profiles": []any{"goose"}},
	})
	cfg := createDefaultConfig()
	require.NoError(t, cm.Unmarshal(cfg))
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, time.Second, cfg.FlushInterval)
	assert.Equal(t, "delta", cfg.AggregationTemporality)
	assert.Equal(t, []time.Duration{10 * time.Millisecond, 100 * time.Millisecond, time.Second}, cfg.Histogram.Buckets)
	assert.True(t, cfg.Exemplars.Enabled)
	assert.Equal(t, 5, cfg.Exemplars.MaxPerDataPoint)
	assert.Equal(t, 10, cfg.Targets.TopK)
	ac := aggregatorConfig(cfg)
	assert.True(t, ac.Delta)
	assert.Equal(t, []float64{0.01, 0.1, 1}, ac.Bounds)
}
