package sandboxevent

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Mapping names, per field of the event model, the attribute keys a sandbox
// host records it under, most specific first. Span (or log record)
// attributes win over resource attributes; within one level, earlier keys
// win over later ones.
type Mapping struct {
	ExtensionID []string `mapstructure:"extension_id"`
	BlockType   []string `mapstructure:"block_type"`
	URL         []string `mapstructure:"url"`
	Host        []string `mapstructure:"host"`
	Operation   []string `mapstructure:"operation"`
	StatusCode  []string `mapstructure:"status_code"`
	Path        []string `mapstructure:"path"`
	Table       []string `mapstructure:"table"`
	Query       []string `mapstructure:"query"`
	DBSystem    []string `mapstructure:"db_system"`
	DNSName     []string `mapstructure:"dns_name"`
	Command     []string `mapstructure:"command"`
	Library     []string `mapstructure:"library"`
	Capability  []string `mapstructure:"capability"`
	Decision    []string `mapstructure:"decision"`
	ErrorCode   []string `mapstructure:"error_code"`
	// EgressBytes and Version: see egress.go.
	EgressBytes []string `mapstructure:"egress_bytes"`
	Version     []string `mapstructure:"version"`
}

type field uint8

const (
	fExtensionID field = iota
	fBlockType
	fURL
	fHost
	fOperation
	fStatusCode
	fPath
	fTable
	fQuery
	fDBSystem
	fDNSName
	fCommand
	fLibrary
	fCapability
	fDecision
	fErrorCode
	fEgressBytes
	fVersion
	numFields
)

func (m *Mapping) fields() [numFields]*[]string {
	return [numFields]*[]string{
		&m.ExtensionID, &m.BlockType, &m.URL, &m.Host, &m.Operation, &m.StatusCode,
		&m.Path, &m.Table, &m.Query, &m.DBSystem, &m.DNSName, &m.Command,
		&m.Library, &m.Capability, &m.Decision, &m.ErrorCode,
		&m.EgressBytes, &m.Version,
	}
}

var fieldNames = [numFields]string{
	"extension_id", "block_type", "url", "host", "operation", "status_code",
	"path", "table", "query", "db_system", "dns_name", "command",
	"library", "capability", "decision", "error_code",
	"egress_bytes", "version",
}

// Built-in profile names.
const (
	ProfileSemconv   = "semconv"
	ProfileGoose     = "goose"
	ProfileJSAudit   = "js_capability_audit"
	ProfileWazero    = "wazero"
	ProfileContainer = "container_monitor"
	ProfileAuditLog  = "audit_log"
)

// builtinProfiles are the attribute conventions of the sandbox hosts this
// project knows; testdata/ holds a sample of each.
var builtinProfiles = map[string]Mapping{
	// OpenTelemetry semantic conventions (and their pre-1.26 names).
	ProfileSemconv: {
		ExtensionID: []string{"sandbox.extension.id"},
		URL:         []string{"url.full", "http.url"},
		Host:        []string{"server.address", "net.peer.name", "network.peer.address"},
		Operation:   []string{"http.request.method", "http.method", "db.operation.name", "db.operation"},
		StatusCode:  []string{"http.response.status_code", "http.status_code"},
		Path:        []string{"file.path", "url.path"},
		Table:       []string{"db.collection.name", "db.sql.table"},
		Query:       []string{"db.query.text", "db.statement"},
		DBSystem:    []string{"db.system.name", "db.system"},
		DNSName:     []string{"dns.question.name"},
		Command:     []string{"process.command_line", "process.executable.path"},
		ErrorCode:   []string{"error.type", "exception.type"},
	},
	// A Goose-style host wrapper around an isolated-vm extension runner.
	ProfileGoose: {
		ExtensionID: []string{"extension.id"},
		BlockType:   []string{"block.type"},
		URL:         []string{"http.url"},
		Operation:   []string{"http.method", "fs.operation", "sql.operation"},
		StatusCode:  []string{"http.status_code"},
		Path:        []string{"fs.path", "file.path"},
		Table:       []string{"db.table", "sql.table"},
		Query:       []string{"sql.query", "db.statement"},
		ErrorCode:   []string{"fs.error", "error.code"},
	},
	// Capability-audit events from a JavaScript sandbox: fetch host check
	// and dispatch, FFI.open, Function constructor, ShadowRealm, VFS.
	ProfileJSAudit: {
		ExtensionID: []string{"sandbox.script.id"},
		Capability:  []string{"capability.name"},
		Decision:    []string{"capability.decision"},
		URL:         []string{"fetch.url"},
		Host:        []string{"fetch.host"},
		Operation:   []string{"fetch.method", "capability.phase"},
		Library:     []string{"ffi.library"},
		Path:        []string{"vfs.path"},
		ErrorCode:   []string{"capability.error"},
	},
	// A wazero plugin host whose plugins reach the network only through an
	// allowlisted http_call host function.
	ProfileWazero: {
		ExtensionID: []string{"plugin.id"},
		URL:         []string{"http_call.url"},
		Operation:   []string{"http_call.method"},
		StatusCode:  []string{"http_call.status_code"},
		Decision:    []string{"http_call.allowlist.decision"},
		ErrorCode:   []string{"plugin.error"},
	},
	// A container monitor: network connects, firewall decisions, file I/O.
	ProfileContainer: {
		ExtensionID: []string{"container.name"},
		Host:        []string{"destination.domain", "destination.address"},
		Decision:    []string{"firewall.action"},
		Path:        []string{"file.path"},
		Operation:   []string{"file.operation"},
		ErrorCode:   []string{"error.code"},
	},
	// Audit-log files, one JSON object a line, as a JavaScript sandbox
	// writes them with --audit-log and a container monitor with --log-file,
	// read by the file_log receiver's json_parser (flat keys). Last in the
	// default order: its short keys (host, path) yield to every namespaced
	// convention. testdata/samples/*_audit.jsonl hold both formats.
	ProfileAuditLog: {
		ExtensionID: []string{"extension", "script", "script_id", "container"},
		Capability:  []string{"capability"},
		Decision:    []string{"decision", "action"},
		URL:         []string{"url"},
		Host:        []string{"host", "dst_host", "dst"},
		Operation:   []string{"method", "phase", "op"},
		Library:     []string{"library"},
		Path:        []string{"path"},
		ErrorCode:   []string{"error", "errno"},
	},
}

// BuiltinProfiles returns the names of the built-in profiles, sorted.
func BuiltinProfiles() []string {
	names := make([]string, 0, len(builtinProfiles)+len(extractorProfiles))
	for n := range builtinProfiles {
		names = append(names, n)
	}
	for n := range extractorProfiles {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// DefaultProfiles is the profile list used when a config names none.
func DefaultProfiles() []string {
	return []string{ProfileGoose, ProfileJSAudit, ProfileWazero, ProfileContainer, ProfileSemconv, ProfileAuditLog, ProfileAgents}
}

// Config is the event-model section every sandwatch component embeds as
// `event_model:`.
type Config struct {
	// Profiles are the built-in attribute conventions to read, in priority
	// order. Empty means DefaultProfiles().
	Profiles []string `mapstructure:"profiles"`
	// Mapping adds keys of the operator's own; they win over the profiles.
	Mapping Mapping `mapstructure:"mapping"`
	// AgentSessions bounds the agents profile's per-session state.
	AgentSessions SessionConfig `mapstructure:"agent_sessions"`
	// DeniedValues are decision values that mean "denied" (case-insensitive).
	// Empty means the built-in list (denied, deny, blocked, block, rejected,
	// forbidden, false).
	DeniedValues []string `mapstructure:"denied_values"`
}

var defaultDeniedValues = []string{"denied", "deny", "blocked", "block", "rejected", "reject", "forbidden", "false", "drop", "dropped"}

// Validate checks the profile names and keys.
func (c *Config) Validate() error {
	var errs []error
	for _, p := range c.Profiles {
		if _, ok := builtinProfiles[p]; !ok && !extractorProfiles[p] {
			errs = append(errs, fmt.Errorf("event_model.profiles: unknown profile %q (known: %s)", p, strings.Join(BuiltinProfiles(), ", ")))
		}
	}
	for i, keys := range c.Mapping.fields() {
		for _, k := range *keys {
			if strings.TrimSpace(k) == "" {
				errs = append(errs, fmt.Errorf("event_model.mapping.%s: empty attribute key", fieldNames[i]))
			}
		}
	}
	for _, v := range c.DeniedValues {
		if v == "" {
			errs = append(errs, errors.New("event_model.denied_values: empty value"))
		}
	}
	if err := c.AgentSessions.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
