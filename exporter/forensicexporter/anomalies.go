package forensicexporter

import "github.com/sandwatch/sandwatch/internal/archive"

// anomalyIndex indexes, by trace id, the anomaly events the baseline
// connector emits (connector/baselineconnector output.go: event name
// sandbox.anomaly, attributes anomaly.type and sandbox.extension.id) when
// a logs pipeline routes them here, so that search finds "traces flagged
// exfiltration" from the index (span.sandwatch.anomaly).
var anomalyIndex = archive.AnomalyFinder{
	EventName:    "sandbox.anomaly",
	TypeKey:      "anomaly.type",
	ExtensionKey: "sandbox.extension.id",
}
