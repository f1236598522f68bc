// Package metadata holds the component's type and stability (written by
// hand: mdatagen is not buildable from this registry).
package metadata

import "go.opentelemetry.io/collector/component"

var Type = component.MustNewType("baseline")

const (
	TracesToLogsStability    = component.StabilityLevelAlpha
	TracesToMetricsStability = component.StabilityLevelAlpha
	LogsToLogsStability      = component.StabilityLevelAlpha
	LogsToMetricsStability   = component.StabilityLevelAlpha
	// ScopeName is the instrumentation scope of emitted records and own telemetry.
	ScopeName = "github.com/sandwatch/sandwatch/connector/baselineconnector"
)
