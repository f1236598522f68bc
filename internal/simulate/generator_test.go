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

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func events(td ptrace.Traces, ld plog.Logs) []sandboxevent.Event {
	c := sandboxevent.MustNew(sandboxevent.Config{})
	var out []sandboxevent.Event
	c.EachSpan(td, func(_ ptrace.Span, ev *sandboxevent.Event, _ ptrace.ResourceSpans, _ ptrace.ScopeSpans) {
		out = append(out, *ev)
	})
	c.EachLog(ld, func(_ plog.LogRecord, ev *sandboxevent.Event, _ plog.ResourceLogs, _ plog.ScopeLogs) {
		out = append(out, *ev)
	})
	return out
}

func TestDeterministic(t *testing.T) {
	a, _ := New(Options{Seed: 7, Extensions: 10}).Invocation(3, t0)
	b, _ := New(Options{Seed: 7, Extensions: 10}).Invocation(3, t0)
	ma, _ := (&ptrace.ProtoMarshaler{}).MarshalTraces(a)
	mb, _ := (&ptrace.ProtoMarshaler{}).MarshalTraces(b)
	assert.Equal(t, ma, mb)
}

// Every extension's benign traffic classifies to its own id and stays
// within its own habits, whatever the host style.
func TestBenignHabits(t *testing.T) {
	g := New(Options{Seed: 1, Extensions: 8})
	for i, e := range g.Extensions() {
		hosts := map[string]bool{}
		for _, h := range e.Hosts {
			hosts[h] = true
		}
		for n := 0; n < 5; n++ {
			for _, ev := range events(g.Invocation(i, t0)) {
				require.Equal(t, e.ID, ev.ExtensionID, "style %s", e.Style)
				assert.NotEqual(t, sandboxevent.OutcomeDenied, ev.Outcome)
				if ev.TargetType == sandboxevent.TargetHost {
					assert.True(t, hosts[ev.Target], "%s: unexpected host %s", e.ID, ev.Target)
				}
			}
		}
	}
}

func TestScenarios(t *testing.T) {
	g := New(Options{Seed: 1, Extensions: 8})
	for _, name := range Scenarios() {
		for ext := 0; ext < 4; ext++ { // every style
			td, ld, inj, err := g.Inject(name, ext, t0)
			require.NoError(t, err)
			assert.Equal(t, g.Extensions()[ext].ID, inj.ExtensionID)
			evs := events(td, ld)
			var probes, selects, denied, egressNew int
			for _, ev := range evs {
				if ev.IsProbe() {
					probes++
				}
				if ev.Kind == sandboxevent.KindDB {
					selects++
				}
				if ev.Outcome == sandboxevent.OutcomeDenied {
					denied++
				}
				if ev.IsEgress() && ev.TargetType == sandboxevent.TargetHost && len(ev.Target) > 7 && ev.Target[:7] == "upload." {
					egressNew++
				}
			}
			switch name {
			case "recon":
				assert.GreaterOrEqual(t, probes, 10, "%s/%d", name, ext)
			case "volume-spike":
				if g.Extensions()[ext].Style != StyleWazero {
					assert.GreaterOrEqual(t, selects, 50)
				}
			case "capability-denied":
				assert.GreaterOrEqual(t, denied, 1)
			case "exfiltration":
				assert.GreaterOrEqual(t, egressNew, 1)
			case "secrets":
				assert.Len(t, inj.Secrets, 5)
			case "runaway":
				root := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
				assert.Greater(t, root.EndTimestamp().AsTime().Sub(root.StartTimestamp().AsTime()), 20*time.Millisecond)
			}
		}
	}
	_, _, _, err := g.Inject("nope", 0, t0)
	assert.ErrorContains(t, err, "unknown scenario")
}

func TestBatch(t *testing.T) {
	td, _ := New(Options{Seed: 1, Extensions: 50}).Batch(0, 500, t0)
	assert.GreaterOrEqual(t, td.SpanCount(), 500)
}
