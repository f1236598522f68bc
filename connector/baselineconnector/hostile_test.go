package baselineconnector

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Hostile input stays within bounds: huge ids and targets are clipped,
// records without trace ids do not make an invocation, invalid UTF-8 and
// deep values do not crash.
func TestHostileInputBounded(t *testing.T) {
	r := newRig(t, func(c *Config) { c.LearnInvocations = 1; c.MaxTraces = 10 })
	huge := strings.Repeat("x", 1<<20)
	td := ptrace.NewTraces()
	ss := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	for i := 0; i < 50; i++ {
		s := ss.AppendEmpty()
		s.SetTraceID([16]byte{byte(i), 9})
		s.Attributes().PutStr("extension.id", huge)
		s.Attributes().PutStr("fs.path", "/"+huge+"\xff\xfe")
		s.Attributes().PutStr("http.url", "https://\xff"+huge)
		m := s.Attributes().PutEmptyMap("deep")
		for d := 0; d < 100; d++ {
			m = m.PutEmptyMap("d")
		}
	}
	r.feed(td, plog.NewLogs())
	ld := plog.NewLogs()
	recs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for i := 0; i < 100; i++ {
		rec := recs.AppendEmpty() // no trace id
		rec.Attributes().PutStr("extension.id", "audit")
		rec.Attributes().PutStr("capability.name", "shadow_realm")
		rec.Attributes().PutStr("capability.decision", "denied")
	}
	r.feed(ptrace.NewTraces(), ld)
	st := r.b.eng.Stats()
	assert.Equal(t, 2, st.Profiles)
	assert.LessOrEqual(t, st.Traces, 10)
	assert.EqualValues(t, 40, r.b.eng.C.TracesDropped)
	p, ok := r.b.eng.Profile(huge[:256])
	require.True(t, ok)
	for c := range p.Sets {
		for _, n := range p.Sets[c].Names() {
			assert.LessOrEqual(t, len(n), 256)
		}
	}
	for _, x := range r.records() {
		assert.LessOrEqual(t, len(x.Target), 512)
	}
	assert.Equal(t, 1, types(r.records())["capability_denied"], "deduplicated")
}
