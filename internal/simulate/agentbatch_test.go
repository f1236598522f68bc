package simulate

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/sandboxevent"
)

// The agent mix's batches: one signal each, about size records, whole
// sessions, every emitter's shape, and spans and log records in the
// proportion the sessions themselves have.
func TestAgentBatches(t *testing.T) {
	at := time.Unix(1_700_000_000, 0)
	opts := AgentOptions{Seed: 4, Agents: 30}
	batches := NewAgents(opts).Batches(10, 400, 0, at)
	require.GreaterOrEqual(t, len(batches), 10)

	var spans, logs, traceBatches, logBatches int
	c := sandboxevent.MustNew(sandboxevent.Config{})
	emitters := map[string]bool{}
	for i, b := range batches {
		ns, nl := b.Traces.SpanCount(), b.Logs.LogRecordCount()
		require.True(t, (ns == 0) != (nl == 0), "batch %d holds one signal: %d spans, %d log records", i, ns, nl)
		assert.Less(t, b.Records(), 400+200, "batch %d: about size records", i)
		spans, logs = spans+ns, logs+nl
		if ns > 0 {
			traceBatches++
		} else {
			logBatches++
		}
		c.EachSpan(b.Traces, func(_ ptrace.Span, ev *sandboxevent.Event, _ ptrace.ResourceSpans, _ ptrace.ScopeSpans) {
			if sandboxevent.IsCall(ev) {
				emitters[ev.Agent.Emitter.String()] = true
			}
		})
		c.EachLog(b.Logs, func(_ plog.LogRecord, ev *sandboxevent.Event, _ plog.ResourceLogs, _ plog.ScopeLogs) {
			if sandboxevent.IsCall(ev) {
				emitters[ev.Agent.Emitter.String()] = true
			}
		})
	}
	assert.Positive(t, traceBatches)
	assert.Positive(t, logBatches)
	for _, e := range AgentEmitters() {
		assert.True(t, emitters[e], "emitter %s in the batches: %v", e, emitters)
	}
	// Full batches hold at least size records; only the last of each
	// signal may be short.
	short := 0
	for _, b := range batches {
		if b.Records() < 400 {
			short++
		}
	}
	assert.LessOrEqual(t, short, 2)

	// The same sessions, one by one, from a generator of the same seed:
	// the batches hold exactly their spans and log records.
	twin := NewAgents(opts)
	var wantSpans, wantLogs int
	for i := 0; wantSpans+wantLogs < spans+logs; i++ {
		td, ld := twin.Session(i, at)
		wantSpans += td.SpanCount()
		wantLogs += ld.LogRecordCount()
	}
	assert.Equal(t, wantSpans, spans)
	assert.Equal(t, wantLogs, logs)

	// Deterministic: the same seed gives the same bytes.
	again := NewAgents(opts).Batches(10, 400, 0, at)
	require.Len(t, again, len(batches))
	for i := range batches {
		assert.Equal(t, marshalBatch(t, batches[i]), marshalBatch(t, again[i]), "batch %d", i)
	}
}

func marshalBatch(t *testing.T, b AgentBatch) []byte {
	if b.Traces.SpanCount() > 0 {
		out, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(b.Traces)
		require.NoError(t, err)
		return out
	}
	out, err := (&plog.ProtoMarshaler{}).MarshalLogs(b.Logs)
	require.NoError(t, err)
	return out
}

// Asked for a number of calls, the batches hold at least that many tool
// calls, each counted once by the event model, however few batches n asks.
func TestAgentBatchesCalls(t *testing.T) {
	batches := NewAgents(AgentOptions{Seed: 2, Agents: 40}).Batches(1, 500, 3000, time.Unix(1_700_000_000, 0))
	require.Greater(t, len(batches), 1)
	c := sandboxevent.MustNew(sandboxevent.Config{})
	d := sandboxevent.NewCallDeduper(1 << 16)
	calls := 0
	for _, b := range batches {
		got, _ := classifyAgents(c, d, b.Traces, b.Logs)
		calls += len(got)
	}
	assert.GreaterOrEqual(t, calls, 3000)
	assert.Less(t, calls, 3000+500, "no more than a batch's worth past the calls asked for")
}
