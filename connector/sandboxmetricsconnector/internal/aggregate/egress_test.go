package aggregate

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/samples"
	"github.com/sandwatch/sandwatch/internal/sandboxevent"
)

// sandbox.egress.bytes sums every byte-count convention of the samples.
func TestEgressBytes(t *testing.T) {
	c := sandboxevent.MustNew(sandboxevent.Config{})
	a := New(testConfig(), 0)
	var sp Span
	c.EachSpan(samples.Traces(t, "egress.json"), func(_ ptrace.Span, ev *sandboxevent.Event, _ ptrace.ResourceSpans, _ ptrace.ScopeSpans) {
		a.RecordSpan(ev, &sp, sec)
	})
	c.EachLog(samples.Logs(t, "container_monitor_egress.json"), func(_ plog.LogRecord, ev *sandboxevent.Event, _ plog.ResourceLogs, _ plog.ScopeLogs) {
		a.RecordLog(ev, nil, sec)
	})
	denied := sandboxevent.Event{ExtensionID: "backup-019", Kind: sandboxevent.KindHTTP, Outcome: sandboxevent.OutcomeDenied, EgressBytes: 1 << 30}
	a.RecordLog(&denied, nil, sec)
	a.EndBatch()
	assert.Equal(t, map[string]int64{
		"extension=backup-019,kind=http":    157286400 + 52428,
		"extension=backup-019,kind=net":     8192,
		"extension=sync-004,kind=http":      2048,
		"extension=snmp-probe,kind=http":    4096,
		"extension=coi-abc12345-1,kind=net": 104857600,
	}, sumPoints(t, collect(a, 2*sec), "sandbox.egress.bytes"), "a denied request sent nothing")
}
