// Package socketguardextension creates the collector's unix domain sockets
// owner-only (0600 by default) and clears the stale socket files a killed
// collector leaves behind, so an OTLP receiver on a unix socket is safe to
// expose on a shared host and restarts cleanly.
package socketguardextension

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"

	"github.com/sandwatch/sandwatch/extension/socketguardextension/internal/metadata"
)

// NewFactory returns the socket_guard extension factory.
func NewFactory() extension.Factory {
	return extension.NewFactory(metadata.Type,
		func() component.Config { return createDefaultConfig() },
		create, metadata.ExtensionStability)
}

func create(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
	return newGuard(cfg.(*Config), set.Logger)
}
