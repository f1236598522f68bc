package sandboxevent

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/samples"
)

// initializeApart splits the Traceloop sample into its initialize spans
// (which name each session's server) and the others, as two batches.
func initializeApart(td ptrace.Traces) (rest, inits ptrace.Traces) {
	rest, inits = ptrace.NewTraces(), ptrace.NewTraces()
	td.CopyTo(rest)
	td.CopyTo(inits)
	rest.ResourceSpans().At(0).ScopeSpans().At(0).Spans().RemoveIf(func(s ptrace.Span) bool { return s.Name() == "initialize.mcp" })
	inits.ResourceSpans().At(0).ScopeSpans().At(0).Spans().RemoveIf(func(s ptrace.Span) bool { return s.Name() != "initialize.mcp" })
	return rest, inits
}

type released struct {
	name     string
	ext      string
	awaiting bool
}

func holdAll(c *Classifier, h *SpanHold, td ptrace.Traces, now int64) (added, refused int) {
	c.EachSpan(td, func(span ptrace.Span, ev *Event, rs ptrace.ResourceSpans, _ ptrace.ScopeSpans) {
		if h.Add(span, ev, rs, now) {
			added++
		} else if ev.Agent.AwaitingSession {
			refused++
		}
	})
	return added, refused
}

func release(c *Classifier, h *SpanHold, now int64, force bool) []released {
	var out []released
	h.Release(c, now, force, func(span ptrace.Span, ev *Event, _ ptrace.ResourceSpans) {
		out = append(out, released{span.Name(), ev.ExtensionID, ev.Agent.AwaitingSession})
	})
	return out
}

func TestSpanHold(t *testing.T) {
	rest, inits := initializeApart(samples.Traces(t, "traceloop_mcp.json"))
	const wait = time.Second
	now := time.Date(2026, 12, 2, 7, 0, 0, 0, time.UTC).UnixNano()

	t.Run("released when the session is named", func(t *testing.T) {
		c, h := MustNew(Config{}), NewSpanHold(wait, 100)
		added, refused := holdAll(c, &h, rest, now)
		require.Equal(t, 7, added, "the tool and listing spans of both sessions")
		assert.Zero(t, refused)
		assert.Empty(t, release(c, &h, now, false), "nothing named them yet")
		assert.Equal(t, 7, h.Len())

		c.LearnSessions(inits)
		got := release(c, &h, now+1, false)
		require.Len(t, got, 7)
		for _, r := range got {
			assert.False(t, r.awaiting, r.name)
			assert.NotEmpty(t, r.ext, r.name)
		}
		assert.Zero(t, h.Len())
	})

	t.Run("released unattributed when the wait is over", func(t *testing.T) {
		c, h := MustNew(Config{}), NewSpanHold(wait, 100)
		holdAll(c, &h, rest, now)
		assert.Empty(t, release(c, &h, now+int64(wait)-1, false))
		got := release(c, &h, now+int64(wait), false)
		require.Len(t, got, 7)
		for _, r := range got {
			assert.True(t, r.awaiting, r.name)
		}
		assert.Zero(t, h.Len())
	})

	t.Run("force releases all", func(t *testing.T) {
		c, h := MustNew(Config{}), NewSpanHold(wait, 100)
		holdAll(c, &h, rest, now)
		assert.Len(t, release(c, &h, now, true), 7)
		assert.Zero(t, h.Len())
	})

	t.Run("bounded", func(t *testing.T) {
		c, h := MustNew(Config{}), NewSpanHold(wait, 3)
		added, refused := holdAll(c, &h, rest, now)
		assert.Equal(t, 3, added)
		assert.Equal(t, 4, refused, "past max: the caller records them at once")

		c, h = MustNew(Config{}), NewSpanHold(0, 100)
		added, refused = holdAll(c, &h, rest, now)
		assert.Zero(t, added, "wait 0: never held")
		assert.Equal(t, 7, refused)
	})

	t.Run("only spans awaiting their session", func(t *testing.T) {
		c, h := MustNew(Config{}), NewSpanHold(wait, 100)
		added, _ := holdAll(c, &h, samples.Traces(t, "traceloop_mcp.json"), now)
		assert.Zero(t, added, "initialize in the same batch names the sessions")
	})
}
