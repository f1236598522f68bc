package sandboxevent

import (
	"math"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// Egress byte counts and extension versions. The keys live apart from the
// profiles in mapping.go so that each profile's egress keys read as one
// table; init merges them in.
//
// EgressBytes is how many bytes an operation sent out of the sandbox: a
// request body size (semconv http.request.body.size, the pre-1.26
// http.request_content_length), a Content-Length request header (semconv
// records headers as string arrays), a network transmit count, or a
// container monitor's bytes sent. Version is the extension's own version,
// so the baseline can tell an update from a compromise of the same build.
var egressKeys = map[string]struct{ bytes, version []string }{
	ProfileSemconv: {
		bytes: []string{"http.request.body.size", "http.request_content_length", "http.request.header.content-length",
			"network.transmit.bytes", "network.io.transmit"},
		version: []string{"sandbox.extension.version"},
	},
	ProfileGoose: {
		bytes:   []string{"http.request.body.size", "http.request_content_length", "http.request.header.content-length"},
		version: []string{"extension.version"},
	},
	ProfileJSAudit: {
		bytes:   []string{"fetch.request.body.size"},
		version: []string{"sandbox.script.version"},
	},
	ProfileWazero: {
		bytes:   []string{"http_call.request.body.size"},
		version: []string{"plugin.version"},
	},
	ProfileContainer: {
		bytes:   []string{"network.bytes_sent", "network.transmit.bytes"},
		version: []string{"container.image.tag"},
	},
	// JSON audit-log lines (the container monitor's bytes_sent).
	ProfileAuditLog: {
		bytes:   []string{"bytes_sent"},
		version: []string{"version"},
	},
}

func init() {
	for name, k := range egressKeys {
		m := builtinProfiles[name]
		m.EgressBytes, m.Version = k.bytes, k.version
		builtinProfiles[name] = m
	}
}

// maxEgressBytes caps a recorded count (1 PiB): a hostile value must not
// overflow a per-window sum.
const maxEgressBytes = 1 << 50

func deriveEgress(f *found, ev *Event) {
	if f.rank[fEgressBytes] != 0 {
		ev.EgressBytes = byteCount(f.vals[fEgressBytes])
	}
	if f.rank[fVersion] != 0 {
		ev.Version = valueString(f.vals[fVersion])
	}
}

// byteCount reads a non-negative byte count from an int, a double, a
// decimal string or the first element of a string array (HTTP headers);
// anything else is 0.
func byteCount(v pcommon.Value) int64 {
	var n int64
	switch v.Type() {
	case pcommon.ValueTypeInt:
		n = v.Int()
	case pcommon.ValueTypeDouble:
		d := v.Double()
		if d != d || d < 0 { // NaN or negative
			return 0
		}
		n = int64(math.Min(d, maxEgressBytes))
	case pcommon.ValueTypeStr:
		n = parseDecimal(v.Str())
	case pcommon.ValueTypeSlice:
		if s := v.Slice(); s.Len() > 0 {
			return byteCount(s.At(0))
		}
	}
	return min(max(n, 0), maxEgressBytes)
}

// parseDecimal parses an unsigned decimal (surrounding spaces allowed);
// -1 when s is not one.
func parseDecimal(s string) int64 {
	for len(s) > 0 && s[0] == ' ' {
		s = s[1:]
	}
	for len(s) > 0 && s[len(s)-1] == ' ' {
		s = s[:len(s)-1]
	}
	if s == "" {
		return -1
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return -1
		}
		if n > maxEgressBytes {
			return maxEgressBytes
		}
		n = n*10 + int64(c-'0')
	}
	return n
}
