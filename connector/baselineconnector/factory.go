// Package baselineconnector is the `baseline` connector: it learns (and
// takes declared) per-extension behaviour profiles from sandbox traces and
// capability-audit logs, and emits one log record per anomaly, plus
// anomaly metrics. State is persisted through a storage extension.
package baselineconnector

import (
	"context"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/metadata"
)

// NewFactory returns the baseline connector factory.
func NewFactory() connector.Factory {
	return connector.NewFactory(metadata.Type, createDefaultConfig,
		connector.WithTracesToLogs(createTracesToLogs, metadata.TracesToLogsStability),
		connector.WithTracesToMetrics(createTracesToMetrics, metadata.TracesToMetricsStability),
		connector.WithLogsToLogs(createLogsToLogs, metadata.LogsToLogsStability),
		connector.WithLogsToMetrics(createLogsToMetrics, metadata.LogsToMetricsStability),
	)
}

// One detector per component id: the collector builds one connector per
// (input, output) signal pair, and all of them must share the profiles,
// the trace state and the outputs.
var (
	sharedMu sync.Mutex
	shared   = map[component.ID]*baseline{}
)

func getShared(set connector.Settings, cfg component.Config) (*baseline, error) {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if b, ok := shared[set.ID]; ok {
		return b, nil
	}
	b, err := newBaseline(cfg.(*Config), set)
	if err != nil {
		return nil, err
	}
	b.release = func() {
		sharedMu.Lock()
		defer sharedMu.Unlock()
		if shared[set.ID] == b {
			delete(shared, set.ID)
		}
	}
	shared[set.ID] = b
	return b, nil
}

func createTracesToLogs(_ context.Context, set connector.Settings, cfg component.Config, next consumer.Logs) (connector.Traces, error) {
	b, err := getShared(set, cfg)
	if err != nil {
		return nil, err
	}
	b.setLogs(next)
	return b.newTracesIn(), nil
}

func createTracesToMetrics(_ context.Context, set connector.Settings, cfg component.Config, next consumer.Metrics) (connector.Traces, error) {
	b, err := getShared(set, cfg)
	if err != nil {
		return nil, err
	}
	b.setMetrics(next)
	return b.newTracesIn(), nil
}

func createLogsToLogs(_ context.Context, set connector.Settings, cfg component.Config, next consumer.Logs) (connector.Logs, error) {
	b, err := getShared(set, cfg)
	if err != nil {
		return nil, err
	}
	b.setLogs(next)
	return b.newLogsIn(), nil
}

func createLogsToMetrics(_ context.Context, set connector.Settings, cfg component.Config, next consumer.Metrics) (connector.Logs, error) {
	b, err := getShared(set, cfg)
	if err != nil {
		return nil, err
	}
	b.setMetrics(next)
	return b.newLogsIn(), nil
}
