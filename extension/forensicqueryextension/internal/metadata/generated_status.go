// Package metadata holds the component's type and stability (written by
// hand: mdatagen is not buildable from this registry).
package metadata

import "go.opentelemetry.io/collector/component"

var Type = component.MustNewType("forensic_query")

const ExtensionStability = component.StabilityLevelBeta

// ScopeName is the instrumentation scope of the extension's own telemetry.
const ScopeName = "github.com/sandwatch/sandwatch/extension/forensicqueryextension"
