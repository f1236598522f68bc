package sandboxevent

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/samples"
)

// want is the expected classification of one sample record; only the
// fields that matter are compared.
type want struct {
	ext        string
	kind       Kind
	target     string
	targetType TargetType
	outcome    Outcome
	errClass   string
	capability string
	egress     bool
	read       bool
}

func classifyAllSpans(c *Classifier, td ptrace.Traces) []Event {
	var out []Event
	c.EachSpan(td, func(_ ptrace.Span, ev *Event, _ ptrace.ResourceSpans, _ ptrace.ScopeSpans) { out = append(out, *ev) })
	return out
}

func classifyAllLogs(c *Classifier, ld plog.Logs) []Event {
	var out []Event
	c.EachLog(ld, func(_ plog.LogRecord, ev *Event, _ plog.ResourceLogs, _ plog.ScopeLogs) { out = append(out, *ev) })
	return out
}

func check(t *testing.T, got []Event, wants []want) {
	t.Helper()
	require.Len(t, got, len(wants))
	for i, w := range wants {
		ev := got[i]
		assert.Equal(t, w.ext, ev.ExtensionID, "record %d extension", i)
		assert.Equal(t, w.kind, ev.Kind, "record %d kind", i)
		assert.Equal(t, w.target, ev.Target, "record %d target", i)
		assert.Equal(t, w.targetType, ev.TargetType, "record %d target type", i)
		assert.Equal(t, w.outcome, ev.Outcome, "record %d outcome", i)
		assert.Equal(t, w.errClass, ev.ErrorClass(), "record %d error class", i)
		assert.Equal(t, w.capability, ev.Capability, "record %d capability", i)
		assert.Equal(t, w.egress, ev.IsEgress(), "record %d egress", i)
		assert.Equal(t, w.read, ev.IsRead(), "record %d read", i)
	}
}

func TestClassifySamples(t *testing.T) {
	c := MustNew(Config{})
	t.Run("goose", func(t *testing.T) {
		check(t, classifyAllSpans(c, samples.Traces(t, "goose.json")), []want{
			{ext: "weather-sync", kind: KindOther},
			{ext: "weather-sync", kind: KindFS, target: "/workspace/notes-12.json", targetType: TargetPath, read: true},
			{ext: "weather-sync", kind: KindDB, target: "forecasts", targetType: TargetTable, read: true},
			{ext: "weather-sync", kind: KindHTTP, target: "api.weather.example.com", targetType: TargetHost},
			{ext: "weather-sync", kind: KindFS, target: "/etc/shadow", targetType: TargetPath, outcome: OutcomeError, errClass: "EACCES", read: true},
		})
	})
	t.Run("js_capability_audit", func(t *testing.T) {
		check(t, classifyAllLogs(c, samples.Logs(t, "js_capability_audit.json")), []want{
			{ext: "report-builder", kind: KindCapability, capability: "fetch", target: "api.github.com", targetType: TargetHost},
			{ext: "report-builder", kind: KindCapability, capability: "fetch", target: "api.github.com", targetType: TargetHost, egress: true},
			{ext: "report-builder", kind: KindCapability, capability: "fetch", target: "169.254.169.254", targetType: TargetHost, outcome: OutcomeDenied, errClass: "denied"},
			{ext: "report-builder", kind: KindCapability, capability: "ffi.open", target: "libsqlite3.so.0", targetType: TargetLibrary},
			{ext: "report-builder", kind: KindCapability, capability: "function_constructor", outcome: OutcomeDenied, errClass: "denied"},
			{ext: "report-builder", kind: KindCapability, capability: "shadow_realm", outcome: OutcomeDenied, errClass: "denied"},
			{ext: "report-builder", kind: KindCapability, capability: "vfs", target: "/../../etc/passwd", targetType: TargetPath, outcome: OutcomeDenied, errClass: "denied"},
		})
	})
	t.Run("wazero", func(t *testing.T) {
		check(t, classifyAllSpans(c, samples.Traces(t, "wazero.json")), []want{
			{ext: "ping-checker", kind: KindOther},
			{ext: "ping-checker", kind: KindHTTP, target: "status.example.net", targetType: TargetHost},
			{ext: "ping-checker", kind: KindHTTP, target: "10.0.0.5", targetType: TargetHost, outcome: OutcomeDenied, errClass: "denied", egress: true},
		})
	})
	t.Run("container_monitor", func(t *testing.T) {
		check(t, classifyAllLogs(c, samples.Logs(t, "container_monitor.json")), []want{
			{ext: "coi-abc12345-1", kind: KindNet, target: "api.anthropic.com", targetType: TargetHost, egress: true},
			{ext: "coi-abc12345-1", kind: KindNet, target: "192.168.1.1", targetType: TargetHost, outcome: OutcomeDenied, errClass: "denied", egress: true},
			{ext: "coi-abc12345-1", kind: KindFS, target: "/workspace/output.txt", targetType: TargetPath},
			{ext: "coi-abc12345-1", kind: KindDNS, target: "api.anthropic.com", targetType: TargetHost},
		})
	})
	t.Run("js_sandbox_audit_log", func(t *testing.T) {
		check(t, classifyAllLogs(c, samples.AuditLog(t, "js_sandbox_audit.jsonl")), []want{
			{ext: "report-builder", kind: KindCapability, capability: "fetch", target: "api.github.com", targetType: TargetHost},
			{ext: "report-builder", kind: KindCapability, capability: "fetch", target: "api.github.com", targetType: TargetHost, egress: true},
			{ext: "report-builder", kind: KindCapability, capability: "fetch", target: "paste.example.net", targetType: TargetHost, outcome: OutcomeDenied, errClass: "denied", egress: true},
			{ext: "report-builder", kind: KindCapability, capability: "ffi.open", target: "/usr/lib/x86_64-linux-gnu/libc.so.6", targetType: TargetLibrary, outcome: OutcomeDenied, errClass: "denied"},
			{ext: "report-builder", kind: KindCapability, capability: "function_constructor", outcome: OutcomeDenied, errClass: "denied"},
			{ext: "report-builder", kind: KindCapability, capability: "shadow_realm"},
			{ext: "report-builder", kind: KindCapability, capability: "vfs", target: "/etc/passwd", targetType: TargetPath, outcome: OutcomeDenied, errClass: "EACCES"},
		})
	})
	t.Run("container_monitor_log", func(t *testing.T) {
		check(t, classifyAllLogs(c, samples.AuditLog(t, "container_monitor_audit.jsonl")), []want{
			{ext: "ext-weather", kind: KindNet, target: "api.weather.gov", targetType: TargetHost, egress: true},
			{ext: "ext-weather", kind: KindNet, target: "203.0.113.9", targetType: TargetHost, outcome: OutcomeDenied, errClass: "denied", egress: true},
			{ext: "ext-weather", kind: KindNet, target: "2001:db8::53", targetType: TargetHost, egress: true},
		})
	})
	t.Run("semconv", func(t *testing.T) {
		check(t, classifyAllSpans(c, samples.Traces(t, "semconv.json")), []want{
			{ext: "pdf-indexer", kind: KindOther},
			{ext: "pdf-indexer", kind: KindHTTP, target: "docs.example.org", targetType: TargetHost, outcome: OutcomeError, errClass: "http_4xx"},
			{ext: "pdf-indexer", kind: KindDB, target: "documents", targetType: TargetTable, read: true},
			{ext: "pdf-indexer", kind: KindFS, target: "/data/users/12345/profile.jpg", targetType: TargetPath, read: true},
			{ext: "pdf-indexer", kind: KindDNS, target: "time.google.com", targetType: TargetHost},
			{ext: "pdf-indexer", kind: KindExec, target: "pdftotext", targetType: TargetCommand},
		})
	})
}

func TestUserMappingWinsAndProfilesSelectable(t *testing.T) {
	td := ptrace.NewTraces()
	span := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	span.Attributes().PutStr("extension.id", "from-goose")
	span.Attributes().PutStr("acme.ext", "from-user")
	span.Attributes().PutStr("acme.object", "/srv/x")

	var ev Event
	MustNew(Config{}).ClassifySpan(span, nil, &ev)
	assert.Equal(t, "from-goose", ev.ExtensionID)
	assert.Equal(t, KindOther, ev.Kind)

	MustNew(Config{Mapping: Mapping{ExtensionID: []string{"acme.ext"}, Path: []string{"acme.object"}}}).ClassifySpan(span, nil, &ev)
	assert.Equal(t, "from-user", ev.ExtensionID)
	assert.Equal(t, KindFS, ev.Kind)
	assert.Equal(t, "/srv/x", ev.Target)

	// With only the semconv profile, the Goose key is not read.
	MustNew(Config{Profiles: []string{ProfileSemconv}}).ClassifySpan(span, nil, &ev)
	assert.Equal(t, "", ev.ExtensionID)
}

func TestSpanAttributeBeatsResource(t *testing.T) {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("extension.id", "resource-ext")
	span := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	c := MustNew(Config{})
	var rc ResourceContext
	c.LoadResource(rs.Resource().Attributes(), &rc)
	var ev Event
	c.ClassifySpan(span, &rc, &ev)
	assert.Equal(t, "resource-ext", ev.ExtensionID)
	span.Attributes().PutStr("extension.id", "span-ext")
	c.ClassifySpan(span, &rc, &ev)
	assert.Equal(t, "span-ext", ev.ExtensionID)
}

func TestConfigValidate(t *testing.T) {
	err := (&Config{Profiles: []string{"goose", "nope"}}).Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), `event_model.profiles: unknown profile "nope"`)
	err = (&Config{Mapping: Mapping{Path: []string{" "}}}).Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "event_model.mapping.path")
	_, err = New(Config{Profiles: []string{"bad"}})
	require.Error(t, err)
}

func TestHostFromURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://api.example.com/v1/items/7":       "api.example.com",
		"https://user:pw@API.Example.com:8443/x?y": "api.example.com",
		"http://[::1]:8080/":                       "::1",
		"http://10.0.0.5:8500":                     "10.0.0.5",
		"not a url":                                "",
		"https://time.google.com./":                "time.google.com",
	} {
		assert.Equal(t, want, HostFromURL(in), in)
	}
}

func TestKindString(t *testing.T) {
	var names []string
	for _, k := range Kinds() {
		names = append(names, k.String())
	}
	assert.Equal(t, []string{"other", "fs", "http", "db", "dns", "net", "exec", "capability"}, names)
}
