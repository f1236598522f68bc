// Package sandboxmetricsconnector derives low-cardinality sandbox metrics
// (operations, errors, capability decisions, invocations, durations) from
// traces and capability-audit logs, with exemplars and a hard cardinality
// cap, for Prometheus and Grafana.
package sandboxmetricsconnector

import (
	"context"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"

	"github.com/sandwatch/sandwatch/connector/sandboxmetricsconnector/internal/metadata"
)

// NewFactory returns the sandbox_metrics connector factory.
func NewFactory() connector.Factory {
	return connector.NewFactory(metadata.Type,
		func() component.Config { return createDefaultConfig() },
		connector.WithTracesToMetrics(createTracesToMetrics, metadata.TracesToMetricsStability),
		connector.WithLogsToMetrics(createLogsToMetrics, metadata.LogsToMetricsStability),
	)
}

// instances shares one connector between the traces and the logs pipelines
// of one configured component, so both feed the same series (and the same
// cardinality cap).
var instances = struct {
	sync.Mutex
	m map[*Config]*sandboxMetrics
}{m: map[*Config]*sandboxMetrics{}}

func getOrCreate(set connector.Settings, cfg component.Config, next consumer.Metrics) (*sandboxMetrics, error) {
	c := cfg.(*Config)
	instances.Lock()
	defer instances.Unlock()
	if sm, ok := instances.m[c]; ok {
		return sm, nil
	}
	sm, err := newSandboxMetrics(set, c, next)
	if err != nil {
		return nil, err
	}
	sm.release = func() {
		instances.Lock()
		delete(instances.m, c)
		instances.Unlock()
	}
	instances.m[c] = sm
	return sm, nil
}

func createTracesToMetrics(_ context.Context, set connector.Settings, cfg component.Config, next consumer.Metrics) (connector.Traces, error) {
	return getOrCreate(set, cfg, next)
}

func createLogsToMetrics(_ context.Context, set connector.Settings, cfg component.Config, next consumer.Metrics) (connector.Logs, error) {
	return getOrCreate(set, cfg, next)
}
