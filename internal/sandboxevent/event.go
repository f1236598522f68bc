// Package sandboxevent is the sandbox event model: it reads a span or a log
// record emitted by a sandbox host and answers which extension did what, to
// which target, and how it ended. Every sandwatch component classifies
// through this package so the attribute conventions are written once.
package sandboxevent

// Kind is the operation kind of a sandbox event.
type Kind uint8

const (
	KindOther Kind = iota
	KindFS
	KindHTTP
	KindDB
	KindDNS
	KindNet
	KindExec
	KindCapability
	numKinds
)

var kindNames = [numKinds]string{"other", "fs", "http", "db", "dns", "net", "exec", "capability"}

func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return "other"
}

// Kinds lists every kind, in order, for components that pre-build per-kind state.
func Kinds() []Kind {
	out := make([]Kind, numKinds)
	for i := range out {
		out[i] = Kind(i)
	}
	return out
}

// Outcome is how a sandbox operation ended.
type Outcome uint8

const (
	OutcomeOK Outcome = iota
	OutcomeError
	// OutcomeDenied is a policy decision: a capability gate, an allowlist or
	// a firewall refused the operation. An EACCES from the OS is an error
	// with that error code, not a denial.
	OutcomeDenied
)

func (o Outcome) String() string {
	switch o {
	case OutcomeError:
		return "error"
	case OutcomeDenied:
		return "denied"
	default:
		return "ok"
	}
}

// TargetType says what Event.Target names.
type TargetType uint8

const (
	TargetNone TargetType = iota
	TargetPath
	TargetHost
	TargetTable
	TargetLibrary
	TargetCommand
)

func (t TargetType) String() string {
	switch t {
	case TargetPath:
		return "path"
	case TargetHost:
		return "host"
	case TargetTable:
		return "table"
	case TargetLibrary:
		return "library"
	case TargetCommand:
		return "command"
	default:
		return "none"
	}
}

// Event is the classification of one span or log record. Its strings point
// into the pdata they were read from (no copies): copy them before keeping
// them beyond the lifetime of the batch.
type Event struct {
	ExtensionID string
	Kind        Kind
	Outcome     Outcome
	TargetType  TargetType
	// Target is the path, host, table, library or command the operation
	// touched, raw (templating is the caller's job).
	Target string
	// URL is the full URL of an HTTP operation, when one was recorded.
	URL string
	// Operation is the verb: an HTTP method, a db operation, a file
	// operation (read, write, open...), upper- or lower-case as sent.
	Operation string
	// Capability names the gate of a capability decision (fetch, ffi.open,
	// function_constructor, shadow_realm, vfs...).
	Capability string
	// Decision is the raw decision value of a capability/allowlist/firewall.
	Decision string
	// ErrorCode is the error code as recorded (EACCES, ENOENT, a class name...).
	ErrorCode string
	// StatusCode is the HTTP status code, 0 when none.
	StatusCode int64
	BlockType  string
	Query      string
	DBSystem   string
	// EgressBytes and Version: see egress.go.
	EgressBytes int64
	Version     string
	// Agent is set for GenAI, MCP and coding-agent telemetry: see agent.go.
	Agent AgentInfo
}

// Reset clears e for reuse.
func (e *Event) Reset() { *e = Event{} }

// IsEgress reports whether the operation sends data out of the sandbox:
// an HTTP request with a body-carrying method, a network connect, or a
// permitted fetch dispatch.
//
// For agent events the tool's class decides: a fetch-like tool (or an
// http(s) resource read) is egress whatever its method.
func (e *Event) IsEgress() bool {
	if e.Agent.Emitter != EmitterNone {
		return e.Agent.Class == ToolClassEgress
	}
	switch e.Kind {
	case KindNet:
		return true
	case KindHTTP, KindCapability:
		if e.Kind == KindCapability && e.TargetType != TargetHost {
			return false
		}
		return isBodyMethod(e.Operation)
	}
	return false
}

// IsRead reports whether the operation reads data: a file read or open, or
// a database read (SELECT, find, get...).
//
// For agent events the tool's class decides: a read tool, a resource read,
// or a tool that returns secrets.
func (e *Event) IsRead() bool {
	if e.Agent.Emitter != EmitterNone {
		return e.Agent.Class == ToolClassRead || e.Agent.Class == ToolClassSecrets
	}
	switch e.Kind {
	case KindFS:
		return e.Operation == "" || hasPrefixFold(e.Operation, "read") || hasPrefixFold(e.Operation, "open") || hasPrefixFold(e.Operation, "stat")
	case KindDB:
		op := e.Operation
		if op == "" {
			op = e.Query
		}
		return hasPrefixFold(trimSpaceLeft(op), "select") || hasPrefixFold(op, "find") || hasPrefixFold(op, "get") || hasPrefixFold(op, "query")
	}
	return false
}

func isBodyMethod(m string) bool {
	return equalFold(m, "POST") || equalFold(m, "PUT") || equalFold(m, "PATCH")
}

// ErrorClass maps the event's error to a small, fixed vocabulary fit for a
// metric label: "" (no error), EACCES, EPERM, ENOENT, ETIMEDOUT,
// ECONNREFUSED, http_4xx, http_5xx, denied or other.
func (e *Event) ErrorClass() string {
	if e.ErrorCode != "" {
		for _, code := range errnoVocabulary {
			if containsFold(e.ErrorCode, code) {
				return code
			}
		}
	}
	switch {
	case e.StatusCode >= 500 && e.StatusCode < 600:
		return "http_5xx"
	case e.StatusCode >= 400 && e.StatusCode < 500:
		return "http_4xx"
	}
	if e.Outcome == OutcomeDenied {
		return "denied"
	}
	if e.ErrorCode != "" || e.Outcome == OutcomeError {
		return "other"
	}
	return ""
}

var errnoVocabulary = [...]string{"EACCES", "EPERM", "ENOENT", "ETIMEDOUT", "ECONNREFUSED"}

// IsProbe reports whether the event is the kind of failed attempt that
// reconnaissance produces: a permission or existence error, a 401/403/404,
// or a denial.
func (e *Event) IsProbe() bool {
	if e.Outcome == OutcomeDenied {
		return true
	}
	switch e.ErrorClass() {
	case "EACCES", "EPERM", "ENOENT":
		return true
	}
	return e.StatusCode == 401 || e.StatusCode == 403 || e.StatusCode == 404
}
