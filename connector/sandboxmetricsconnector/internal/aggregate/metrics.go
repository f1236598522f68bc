package aggregate

// MetricID names one of the metrics the aggregator derives.
type MetricID int

const (
	Operations MetricID = iota
	Errors
	HTTPResponses
	CapabilityDecisions
	Invocations
	Egress
	OperationDuration
	InvocationDuration
	TargetOperations // opt-in, bounded by top_k
	EgressBytes
	NumMetrics
)

// Def describes a metric: its OTel name, unit, kind and attribute names.
type Def struct {
	Name        string
	Description string
	Unit        string
	Histogram   bool
	Labels      []string
	// Optional marks labels left out of a series whose value is empty.
	Optional [maxLabels]bool
}

// OverflowAttr marks the series into which measurements beyond the
// cardinality cap are folded (the OTel SDK convention).
const OverflowAttr = "otel.metric.overflow"

// Defs lists every metric by MetricID. The names follow OTel naming, so a
// Prometheus exporter shows e.g. sandbox_operations_total and
// sandbox_operation_duration_seconds_bucket.
var Defs = [NumMetrics]Def{
	Operations: {
		Name: "sandbox.operations", Unit: "{operation}",
		Description: "Sandbox operations by extension, operation kind and outcome (ok, error, denied); agent tool calls also by tool (the MCP server or agent tool set is the extension), each call counted once.",
		Labels:      []string{"extension", "kind", "outcome", "tool"},
		Optional:    [maxLabels]bool{3: true},
	},
	Errors: {
		Name: "sandbox.errors", Unit: "{error}",
		Description: "Failed sandbox operations by extension, kind and bounded error class (EACCES, EPERM, ENOENT, ETIMEDOUT, ECONNREFUSED, http_4xx, http_5xx, other).",
		Labels:      []string{"extension", "kind", "error_class"},
	},
	HTTPResponses: {
		Name: "sandbox.http.responses", Unit: "{response}",
		Description: "HTTP responses seen by sandboxed extensions, by status class (1xx..5xx).",
		Labels:      []string{"extension", "status_class"},
	},
	CapabilityDecisions: {
		Name: "sandbox.capability.decisions", Unit: "{decision}",
		Description: "Capability, allowlist and firewall decisions by extension, capability and decision (allowed, denied).",
		Labels:      []string{"extension", "capability", "decision"},
	},
	Invocations: {
		Name: "sandbox.invocations", Unit: "{invocation}",
		Description: "Extension invocations (root spans) by extension and outcome.",
		Labels:      []string{"extension", "outcome"},
	},
	Egress: {
		Name: "sandbox.egress.operations", Unit: "{operation}",
		Description: "Operations that send data out of the sandbox (body-carrying HTTP, network connects, permitted fetches).",
		Labels:      []string{"extension", "kind"},
	},
	OperationDuration: {
		Name: "sandbox.operation.duration", Unit: "s", Histogram: true,
		Description: "Duration of sandbox operations by extension and kind.",
		Labels:      []string{"extension", "kind"},
	},
	InvocationDuration: {
		Name: "sandbox.invocation.duration", Unit: "s", Histogram: true,
		Description: "Duration of extension invocations (root spans) by extension and outcome.",
		Labels:      []string{"extension", "outcome"},
	},
	TargetOperations: {
		Name: "sandbox.target.operations", Unit: "{operation}",
		Description: "Operations per target (host, table...), opt-in and bounded to top_k series.",
		Labels:      []string{"extension", "target_type", "target"},
	},
	EgressBytes: {
		Name: "sandbox.egress.bytes", Unit: "By",
		Description: "Bytes sent out of the sandbox (request body sizes, Content-Length, network transmit counts, a container monitor's bytes sent) by extension and kind.",
		Labels:      []string{"extension", "kind"},
	},
}
