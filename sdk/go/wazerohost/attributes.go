package wazerohost

// Attribute keys the kit records. They are the keys sandwatch's `wazero`
// event-model profile reads (internal/sandboxevent, profile "wazero"), so a
// collector with the default event model classifies every span without
// configuration: plugin.id is the extension, an http_call span is an HTTP
// operation on the URL's host, and the allowlist decision makes a refused
// call a denial.
const (
	// AttrPluginID is the plugin's id, on every span.
	AttrPluginID = "plugin.id"
	// AttrPluginVersion is the plugin's version, on plugin.execute when known.
	AttrPluginVersion = "plugin.version"
	// AttrPluginOutcome is how a run ended: ok, exit, panic, timeout or error.
	AttrPluginOutcome = "plugin.outcome"
	// AttrPluginExitCode is the guest's exit code when it called proc_exit.
	AttrPluginExitCode = "plugin.exit_code"
	// AttrPluginError is the error code of a failed run (timeout, panic,
	// exit_code_N, load_error) or a failed http_call (ECONNREFUSED,
	// ETIMEDOUT, invalid_url, ...). The event model reads it as the error code.
	AttrPluginError = "plugin.error"
	// AttrRuntime names the wasm runtime.
	AttrRuntime = "wasm.runtime"

	// AttrMethod is the HTTP method the plugin asked for.
	AttrMethod = "http_call.method"
	// AttrURL is the URL the plugin asked for, whole: the kit does not cut
	// query strings or userinfo out of it. Secrets in URLs are the
	// collector's job (the scrub processor removes credentials and
	// sensitive query parameters before anything is stored).
	AttrURL = "http_call.url"
	// AttrStatusCode is the response's status code.
	AttrStatusCode = "http_call.status_code"
	// AttrDecision is the allowlist decision: allowed or denied.
	AttrDecision = "http_call.allowlist.decision"
	// AttrRule is the allowlist entry that allowed the call.
	AttrRule = "http_call.allowlist.rule"
	// AttrResponseBytes is how many response bytes the plugin received.
	AttrResponseBytes = "http_call.response.bytes"
)

// Span names.
const (
	SpanExecute  = "plugin.execute"
	SpanHTTPCall = "http_call"
)

// Decision values of AttrDecision; "denied" is in the event model's default
// list of denial values.
const (
	DecisionAllowed = "allowed"
	DecisionDenied  = "denied"
)

// Outcomes of a run (AttrPluginOutcome).
const (
	OutcomeOK      = "ok"
	OutcomeExit    = "exit"
	OutcomePanic   = "panic"
	OutcomeTimeout = "timeout"
	OutcomeError   = "error"
)
