// Package identitymark names the attributes the identity processor writes
// and answers, for the connectors, whether a record was flagged: a span or
// log record whose sender's credential does not cover the extension (or
// host) it claims. Such records are archived as they are, but never learned
// into a profile nor counted in an extension's metrics.
package identitymark

import "go.opentelemetry.io/collector/pdata/pcommon"

const (
	// Identity is the resource attribute holding the name of the identity
	// that sent the data (from the bindings). Tier 1 writes it as its stamp;
	// tier 2 believes it only from a trusted forwarder's certificate.
	Identity = "sandwatch.identity"
	// Flagged is a resource attribute (bool true) set when at least one
	// record under the resource was flagged: the connectors look at a
	// record's own attributes only under a flagged resource.
	Flagged = "sandwatch.identity.flagged"
	// Mismatch is the record attribute holding why the record was flagged
	// (one of the Reason* values).
	Mismatch = "sandwatch.identity.mismatch"
)

// Why a record was flagged.
const (
	// ReasonUnidentified: no credential of the request maps to an identity.
	ReasonUnidentified = "unidentified"
	// ReasonExtensionNotBound: the record's extension id is not among the
	// identity's extensions.
	ReasonExtensionNotBound = "extension_not_bound"
	// ReasonHostNotBound: the resource's host.name is missing or not among
	// the identity's hosts.
	ReasonHostNotBound = "host_not_bound"
	// ReasonForgedStamp: the data carried an identity stamp but did not
	// come from a trusted forwarder.
	ReasonForgedStamp = "forged_stamp"
)

// Check returns the reason a record was flagged, and whether it was, from
// its resource's attributes and its own. A record is flagged only under a
// resource the processor marked, so a sender cannot exclude records by
// writing the record attribute alone (and the common case, an unflagged
// resource, costs one lookup per resource).
func Check(resource, record pcommon.Map) (string, bool) {
	if !ResourceFlagged(resource) {
		return "", false
	}
	return RecordReason(record)
}

// ResourceFlagged reports whether the processor marked the resource.
func ResourceFlagged(resource pcommon.Map) bool {
	v, ok := resource.Get(Flagged)
	return ok && v.Type() == pcommon.ValueTypeBool && v.Bool()
}

// RecordReason returns the record's flag reason, if it has one.
func RecordReason(record pcommon.Map) (string, bool) {
	v, ok := record.Get(Mismatch)
	if !ok || v.Type() != pcommon.ValueTypeStr {
		return "", false
	}
	return v.Str(), true
}
