// Package metadata holds the component's type and stability (written by
// hand: mdatagen is not buildable from this registry).
package metadata

import "go.opentelemetry.io/collector/component"

var Type = component.MustNewType("classify_once")

const (
	TracesStability = component.StabilityLevelAlpha
	LogsStability   = component.StabilityLevelAlpha
)

// ScopeName is the instrumentation scope of the processor's own metrics.
const ScopeName = "github.com/sandwatch/sandwatch/processor/classifyonceprocessor"
