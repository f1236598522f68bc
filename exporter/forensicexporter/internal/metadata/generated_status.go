// Package metadata holds the component's type and stability (written by
// hand: mdatagen is not buildable from this registry).
package metadata

import "go.opentelemetry.io/collector/component"

var Type = component.MustNewType("forensic")

const (
	TracesStability = component.StabilityLevelBeta
	LogsStability   = component.StabilityLevelBeta
)

// ScopeName is the instrumentation scope of the exporter's own telemetry.
const ScopeName = "github.com/sandwatch/sandwatch/exporter/forensicexporter"
