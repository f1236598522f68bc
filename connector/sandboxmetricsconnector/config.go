package sandboxmetricsconnector

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sandwatch/sandwatch/internal/sandboxevent"
)

// Config configures the sandbox_metrics connector.
type Config struct {
	// EventModel is the attribute mapping of the sandbox event model.
	EventModel sandboxevent.Config `mapstructure:"event_model"`
	// FlushInterval is how often the series are sent to the metrics
	// pipeline; default 15s.
	FlushInterval time.Duration `mapstructure:"flush_interval"`
	// AggregationTemporality is "cumulative" (default, what Prometheus
	// wants) or "delta".
	AggregationTemporality string `mapstructure:"aggregation_temporality"`
	// MaxSeriesPerMetric is the hard cardinality cap of each metric; new
	// series beyond it fold into one series marked otel.metric.overflow=true.
	// Default 2000.
	MaxSeriesPerMetric int `mapstructure:"max_series_per_metric"`
	// SeriesExpiration removes series not updated for this long, freeing
	// room under the cap; default 10m, 0 keeps series forever.
	SeriesExpiration time.Duration `mapstructure:"series_expiration"`
	// MaxLabelLength truncates attribute values (bytes); default 128.
	MaxLabelLength int `mapstructure:"max_label_length"`
	// UnknownExtension is the extension label given to spans without an
	// extension id; empty (default) leaves them out of the series (they are
	// still counted in the connector's own telemetry).
	UnknownExtension string `mapstructure:"unknown_extension"`
	// Histogram configures sandbox.operation.duration and
	// sandbox.invocation.duration.
	Histogram HistogramConfig `mapstructure:"histogram"`
	// Exemplars configures the trace/span ID exemplars on every data point.
	Exemplars ExemplarsConfig `mapstructure:"exemplars"`
	// Targets opts in to sandbox.target.operations (per host, table...).
	Targets TargetsConfig `mapstructure:"targets"`
	// Agents: counting agent tool calls once, and waiting for a session's
	// identity (see agents.go).
	Agents AgentsConfig `mapstructure:"agents"`
}

// HistogramConfig holds explicit bucket bounds.
type HistogramConfig struct {
	// Buckets are the explicit upper bounds, strictly ascending.
	Buckets []time.Duration `mapstructure:"buckets"`
}

// ExemplarsConfig bounds exemplars.
type ExemplarsConfig struct {
	// Enabled attaches trace and span IDs to data points; default true.
	Enabled bool `mapstructure:"enabled"`
	// MaxPerDataPoint keeps the latest N exemplars per data point and
	// flush interval; default 2.
	MaxPerDataPoint int `mapstructure:"max_per_data_point"`
}

// TargetsConfig is the opt-in per-target metric.
type TargetsConfig struct {
	// Enabled adds sandbox.target.operations{extension,target_type,target}.
	Enabled bool `mapstructure:"enabled"`
	// Types are the target types to count: host, table, path, library,
	// command; default [host, table].
	Types []string `mapstructure:"types"`
	// TopK caps the metric's series (the rest fold into the overflow
	// series); default 100.
	TopK int `mapstructure:"top_k"`
}

var defaultBuckets = []time.Duration{
	time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond, 25 * time.Millisecond,
	50 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second, 30 * time.Second,
}

func createDefaultConfig() *Config {
	return &Config{
		FlushInterval:          15 * time.Second,
		AggregationTemporality: "cumulative",
		MaxSeriesPerMetric:     2000,
		SeriesExpiration:       10 * time.Minute,
		MaxLabelLength:         128,
		Histogram:              HistogramConfig{Buckets: append([]time.Duration(nil), defaultBuckets...)},
		Exemplars:              ExemplarsConfig{Enabled: true, MaxPerDataPoint: 2},
		Targets:                TargetsConfig{Types: []string{"host", "table"}, TopK: 100},
		Agents:                 AgentsConfig{DedupeMaxCalls: sandboxevent.DefaultDedupeMax, SessionWait: 5 * time.Second, MaxWaiting: 10000},
	}
}

var targetTypes = map[string]sandboxevent.TargetType{
	"host": sandboxevent.TargetHost, "table": sandboxevent.TargetTable, "path": sandboxevent.TargetPath,
	"library": sandboxevent.TargetLibrary, "command": sandboxevent.TargetCommand,
}

// Validate rejects a configuration the connector cannot run with, naming
// the field and the fix.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if err := c.EventModel.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.FlushInterval < 100*time.Millisecond {
		add("flush_interval: %v is too short; use at least 100ms (default 15s)", c.FlushInterval)
	}
	switch c.AggregationTemporality {
	case "cumulative", "delta":
	default:
		add("aggregation_temporality: %q is not \"cumulative\" or \"delta\"", c.AggregationTemporality)
	}
	if c.MaxSeriesPerMetric < 1 || c.MaxSeriesPerMetric > 1_000_000 {
		add("max_series_per_metric: %d is out of range; use 1..1000000 (default 2000)", c.MaxSeriesPerMetric)
	}
	if c.SeriesExpiration < 0 {
		add("series_expiration: %v is negative; use 0 to keep series forever or a duration such as 10m", c.SeriesExpiration)
	} else if c.SeriesExpiration > 0 && c.SeriesExpiration < c.FlushInterval {
		add("series_expiration: %v is shorter than flush_interval %v; series would expire before they are sent", c.SeriesExpiration, c.FlushInterval)
	}
	if c.MaxLabelLength < 16 || c.MaxLabelLength > 4096 {
		add("max_label_length: %d is out of range; use 16..4096 (default 128)", c.MaxLabelLength)
	}
	if len(c.Histogram.Buckets) == 0 || len(c.Histogram.Buckets) > 100 {
		add("histogram.buckets: %d bounds; give 1..100 ascending durations such as [5ms, 50ms, 500ms, 5s]", len(c.Histogram.Buckets))
	}
	for i, b := range c.Histogram.Buckets {
		if b <= 0 {
			add("histogram.buckets[%d]: %v must be positive", i, b)
		} else if i > 0 && b <= c.Histogram.Buckets[i-1] {
			add("histogram.buckets[%d]: %v is not greater than the previous bound %v; bounds must be strictly ascending", i, b, c.Histogram.Buckets[i-1])
		}
	}
	if c.Exemplars.Enabled && (c.Exemplars.MaxPerDataPoint < 1 || c.Exemplars.MaxPerDataPoint > 100) {
		add("exemplars.max_per_data_point: %d is out of range; use 1..100 or set exemplars.enabled: false", c.Exemplars.MaxPerDataPoint)
	}
	if c.Targets.Enabled {
		if len(c.Targets.Types) == 0 {
			add("targets.types: empty; list at least one of host, table, path, library, command")
		}
		for i, t := range c.Targets.Types {
			if _, ok := targetTypes[t]; !ok {
				add("targets.types[%d]: unknown target type %q; use host, table, path, library or command", i, t)
			}
		}
		if c.Targets.TopK < 1 || c.Targets.TopK > 100_000 {
			add("targets.top_k: %d is out of range; use 1..100000 (default 100)", c.Targets.TopK)
		}
	}
	if c.Agents.DedupeMaxCalls < 1 || c.Agents.DedupeMaxCalls > 10_000_000 {
		add("agents.dedupe_max_calls: %d is out of range; use 1..10000000 (default %d)", c.Agents.DedupeMaxCalls, sandboxevent.DefaultDedupeMax)
	}
	if c.Agents.SessionWait < 0 || c.Agents.SessionWait > 10*time.Minute {
		add("agents.session_wait: %v is out of range; use 0 (do not wait) to 10m (default 5s)", c.Agents.SessionWait)
	}
	if c.Agents.MaxWaiting < 0 || c.Agents.MaxWaiting > 1_000_000 {
		add("agents.max_waiting: %d is out of range; use 0..1000000 (default 10000)", c.Agents.MaxWaiting)
	}
	if strings.ContainsFunc(c.UnknownExtension, func(r rune) bool { return r < 0x20 }) {
		add("unknown_extension: %q contains control characters", c.UnknownExtension)
	}
	return errors.Join(errs...)
}
