// Package metadata holds the component's type and stability (written by
// hand: mdatagen is not buildable from this registry).
package metadata

import "go.opentelemetry.io/collector/component"

var Type = component.MustNewType("sandbox_metrics")

const (
	TracesToMetricsStability = component.StabilityLevelBeta
	LogsToMetricsStability   = component.StabilityLevelBeta
)

// ScopeName is the instrumentation scope of the connector's own telemetry.
const ScopeName = "github.com/sandwatch/sandwatch/connector/sandboxmetricsconnector"
