package forensicexporter

import "github.com/sandwatch/sandwatch/internal/archive"

// anomalyIndex indexes, by trace id, the anomaly events the baseline
// connector emits (connector/baselineconnector output.go: event name
// sandbox.anomaly, attributes anomaly.type and sandbox.extension.id) when
// a logs pipeline routes them here, so that search finds "traces flagged
// exfiltration" from the index (span.sandwatch.anomaly). The other traces
// an event names are indexed under its type too (output_agent.go:
// AttrFoldedTraces, AttrRelatedTrace; unreported_audit.go:
// AttrCandidates), so every trace of an attack is found: the repeats a
// dedup summary folded, the read of a cross-tool chain, and each
// invocation that may have made an unreported access.
var anomalyIndex = archive.AnomalyFinder{
	EventName:    "sandbox.anomaly",
	TypeKey:      "anomaly.type",
	ExtensionKey: "sandbox.extension.id",
	Linked: []archive.LinkedTraces{
		{Key: "anomaly.folded_trace_ids", Role: "folded"},
		{Key: "anomaly.related_trace_id", Role: "related"},
		{Key: "anomaly.candidate_trace_ids", Role: "candidate"},
	},
}
