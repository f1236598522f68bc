// Package metadata holds the component's type and stability (written by
// hand: mdatagen is not buildable from this registry).
package metadata

import "go.opentelemetry.io/collector/component"

var Type = component.MustNewType("socket_guard")

const ExtensionStability = component.StabilityLevelBeta
