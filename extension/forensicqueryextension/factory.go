// Package forensicqueryextension serves a Tempo-compatible trace-by-id API
// over the forensic archive, so a Grafana Tempo data source pointed at
// sandwatch opens the trace behind an exemplar or an anomaly event.
package forensicqueryextension

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"

	"github.com/sandwatch/sandwatch/extension/forensicqueryextension/internal/metadata"
)

// NewFactory returns the forensic_query extension factory.
func NewFactory() extension.Factory {
	return extension.NewFactory(metadata.Type,
		func() component.Config { return createDefaultConfig() },
		create, metadata.ExtensionStability)
}

func create(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
	return &server{cfg: cfg.(*Config), set: set}, nil
}
