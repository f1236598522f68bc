// Package classifyonceprocessor implements the `classify_once` processor:
// placed last in a pipeline that fans out to several sandwatch consumers
// (forensic, sandbox_metrics, baseline), it lets them share one
// classification of each batch instead of each classifying every record
// (see sandboxevent.BatchScope). It changes no data; without it every
// consumer still works, classifying for itself.
package classifyonceprocessor

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"

	"github.com/sandwatch/sandwatch/processor/classifyonceprocessor/internal/metadata"
)

// NewFactory returns the classify_once processor factory.
func NewFactory() processor.Factory {
	return processor.NewFactory(metadata.Type,
		func() component.Config { return createDefaultConfig() },
		processor.WithTraces(createTraces, metadata.TracesStability),
		processor.WithLogs(createLogs, metadata.LogsStability),
	)
}

func createTraces(_ context.Context, set processor.Settings, cfg component.Config, next consumer.Traces) (processor.Traces, error) {
	tel, err := newTelemetry(set.TelemetrySettings, "traces")
	if err != nil {
		return nil, err
	}
	return &tracesScope{scoper: scoper{max: cfg.(*Config).MaxRecords, tel: tel}, next: next}, nil
}

func createLogs(_ context.Context, set processor.Settings, cfg component.Config, next consumer.Logs) (processor.Logs, error) {
	tel, err := newTelemetry(set.TelemetrySettings, "logs")
	if err != nil {
		return nil, err
	}
	return &logsScope{scoper: scoper{max: cfg.(*Config).MaxRecords, tel: tel}, next: next}, nil
}
