package sandboxevent

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/simulate"
)

// mixedBatches: the simulator's extension mix and the agent mix (every
// emitter, content on half the agents), spans and log records, merged
// into batches of a few hundred records as a fan-out would see them.
func mixedBatches(t testing.TB) (tds []ptrace.Traces, lds []plog.Logs) {
	t.Helper()
	ext := simulate.New(simulate.Options{Seed: 7, Extensions: 20, Noise: 1})
	agents := simulate.NewAgents(simulate.AgentOptions{Seed: 7, Agents: 24, Content: 0.5, Meta: 0.5, Noise: 1})
	at := time.Unix(1795000000, 0)
	for b := 0; b < 6; b++ {
		td, ld := ptrace.NewTraces(), plog.NewLogs()
		for i := 0; i < 20; i++ {
			e, el := ext.Invocation(b*20+i, at)
			e.ResourceSpans().MoveAndAppendTo(td.ResourceSpans())
			el.ResourceLogs().MoveAndAppendTo(ld.ResourceLogs())
			a, al := agents.Session(b*20+i, at)
			a.ResourceSpans().MoveAndAppendTo(td.ResourceSpans())
			al.ResourceLogs().MoveAndAppendTo(ld.ResourceLogs())
		}
		tds, lds = append(tds, td), append(lds, ld)
	}
	return tds, lds
}

func spanEvents(c *Classifier, ctx context.Context, td ptrace.Traces) []Event {
	var out []Event
	c.EachSpanShared(ctx, td, func(_ ptrace.Span, ev *Event, _ ptrace.ResourceSpans, _ ptrace.ScopeSpans) {
		out = append(out, *ev)
	})
	return out
}

func logEvents(c *Classifier, ctx context.Context, ld plog.Logs) []Event {
	var out []Event
	c.EachLogShared(ctx, ld, func(_ plog.LogRecord, ev *Event, _ plog.ResourceLogs, _ plog.ScopeLogs) {
		out = append(out, *ev)
	})
	return out
}

// Every consumer of a scoped batch sees exactly the events it would have
// classified itself, and the batch is classified once.
func TestBatchScopeSharesTheSameEvents(t *testing.T) {
	tds, lds := mixedBatches(t)
	direct := MustNew(Config{})
	c := MustNew(Config{})
	for i, td := range tds {
		ld := lds[i]
		var want []Event
		direct.EachSpan(td, func(_ ptrace.Span, ev *Event, _ ptrace.ResourceSpans, _ ptrace.ScopeSpans) { want = append(want, *ev) })
		var wantLogs []Event
		direct.EachLog(ld, func(_ plog.LogRecord, ev *Event, _ plog.ResourceLogs, _ plog.ScopeLogs) {
			wantLogs = append(wantLogs, *ev)
		})
		agentSpans := 0
		for _, ev := range want {
			if ev.IsAgent() {
				agentSpans++
			}
		}
		if agentSpans == 0 || len(wantLogs) == 0 {
			t.Fatalf("batch %d: the mix has %d agent spans and %d log records; the test needs both", i, agentSpans, len(wantLogs))
		}

		ctx, scope := NewBatchScope(context.Background(), td, 1<<16)
		lctx, lscope := NewBatchScope(context.Background(), ld, 1<<16)
		for consumer := 0; consumer < 3; consumer++ {
			if got := spanEvents(c, ctx, td); !reflect.DeepEqual(got, want) {
				t.Fatalf("batch %d, consumer %d: shared span events differ from a consumer's own", i, consumer)
			}
			if got := logEvents(c, lctx, ld); !reflect.DeepEqual(got, wantLogs) {
				t.Fatalf("batch %d, consumer %d: shared log events differ from a consumer's own", i, consumer)
			}
		}
		for _, tc := range []struct {
			st ScopeStats
			n  int64
		}{{scope.Close(), int64(td.SpanCount())}, {lscope.Close(), int64(ld.LogRecordCount())}} {
			if tc.st != (ScopeStats{Classified: tc.n, Reused: 2 * tc.n}) {
				t.Fatalf("batch %d: stats %+v, want %d classified once and reused twice", i, tc.st, tc.n)
			}
		}
	}
}

// A consumer may change its copy of an event without the next consumer
// seeing it.
func TestBatchScopeGivesEachConsumerACopy(t *testing.T) {
	tds, _ := mixedBatches(t)
	c := MustNew(Config{})
	ctx, scope := NewBatchScope(context.Background(), tds[0], 1<<16)
	defer scope.Close()
	c.EachSpanShared(ctx, tds[0], func(_ ptrace.Span, ev *Event, _ ptrace.ResourceSpans, _ ptrace.ScopeSpans) {
		ev.ExtensionID = "changed"
	})
	for _, ev := range spanEvents(c, ctx, tds[0]) {
		if ev.ExtensionID == "changed" {
			t.Fatal("a consumer's change reached the next consumer")
		}
	}
}

// What the scope must not share: another config's result, another batch
// (a clone, or one a connector made and passed on downstream in the same
// context), a batch over the bound, anything after Close.
func TestBatchScopeSharesOnlyWhatItMay(t *testing.T) {
	tds, lds := mixedBatches(t)
	td := tds[0]
	n := int64(td.SpanCount())
	a, same := MustNew(Config{}), MustNew(Config{})
	other := MustNew(Config{DeniedValues: []string{"nope"}})

	ctx, scope := NewBatchScope(context.Background(), td, 1<<16)
	spanEvents(a, ctx, td)
	spanEvents(same, ctx, td)  // another consumer, the same config: shared
	spanEvents(other, ctx, td) // another config: classifies again
	clone := ptrace.NewTraces()
	td.CopyTo(clone)
	if got := spanEvents(a, ctx, clone); len(got) != clone.SpanCount() { // another batch with the same content
		t.Fatalf("a batch not the scope's gave %d events, want its consumer's own %d", len(got), clone.SpanCount())
	}
	logEvents(a, ctx, lds[0]) // a connector's output in the same context
	st := scope.Close()
	if st != (ScopeStats{Classified: 2 * n, Reused: n}) {
		t.Fatalf("stats %+v: want two classifications of the scope's batch and one reuse, nothing of the others", st)
	}

	ctx, scope = NewBatchScope(context.Background(), td, int(n)-1)
	got := spanEvents(a, ctx, td)
	if st := scope.Close(); st.Oversize != n || st.Classified != 0 {
		t.Fatalf("stats %+v: a batch over the bound must not be kept", st)
	}
	if len(got) != int(n) {
		t.Fatalf("an oversize batch gave %d events, want %d (classified by the consumer)", len(got), n)
	}

	ctx, scope = NewBatchScope(context.Background(), td, 1<<16)
	for i := 0; i < maxScopeEntries+2; i++ {
		spanEvents(MustNew(Config{DeniedValues: []string{fmt.Sprint("model-", i)}}), ctx, td)
	}
	if st := scope.Close(); st.Classified != maxScopeEntries*n || st.Oversize != 2*n {
		t.Fatalf("stats %+v: want %d results kept, the rest classified by their consumers", st, maxScopeEntries)
	}

	ctx, scope = NewBatchScope(context.Background(), lds[0], 1<<16)
	logEvents(a, ctx, lds[0])
	scope.Close()
	if got := logEvents(a, ctx, lds[0]); len(got) != lds[0].LogRecordCount() {
		t.Fatalf("after Close: %d events, want the consumer's own %d", len(got), lds[0].LogRecordCount())
	}
	if st := scope.Close(); st.Classified != int64(lds[0].LogRecordCount()) {
		t.Fatalf("a closed scope kept a result: %+v", st)
	}
}

// Close clears the events it pools: they point into the batch, which
// must not stay reachable through the pool.
func TestBatchScopeCloseClearsEvents(t *testing.T) {
	tds, _ := mixedBatches(t)
	c := MustNew(Config{})
	ctx, scope := NewBatchScope(context.Background(), tds[0], 1<<16)
	spanEvents(c, ctx, tds[0])
	evs := scope.results[0].events
	full := (*evs)[:tds[0].SpanCount()]
	scope.Close()
	for i := range full {
		if !reflect.ValueOf(full[i]).IsZero() {
			t.Fatalf("event %d still holds %+v after Close", i, full[i])
		}
	}
}

// Without a scope, EachSpanShared is EachSpan.
func TestEachSpanSharedWithoutScope(t *testing.T) {
	tds, _ := mixedBatches(t)
	c := MustNew(Config{})
	var want []Event
	c.EachSpan(tds[1], func(_ ptrace.Span, ev *Event, _ ptrace.ResourceSpans, _ ptrace.ScopeSpans) { want = append(want, *ev) })
	if got := spanEvents(c, context.Background(), tds[1]); !reflect.DeepEqual(got, want) {
		t.Fatal("without a scope the events differ from EachSpan's")
	}
}

// A consumer that reads a shared result learns the batch's agent sessions
// into its own table, as if it had classified the batch: a Traceloop span
// it holds from an earlier batch is attributed by the same session.
func TestBatchScopeReaderLearnsSessions(t *testing.T) {
	tds, _ := mixedBatches(t)
	filler, reader := MustNew(Config{}), MustNew(Config{})
	for _, td := range tds {
		ctx, scope := NewBatchScope(context.Background(), td, 1<<16)
		spanEvents(filler, ctx, td)
		spanEvents(reader, ctx, td)
		if st := scope.Close(); st.Reused != int64(td.SpanCount()) {
			t.Fatalf("stats %+v: the reader did not read the shared result", st)
		}
	}
	if filler.sessions.Len() == 0 {
		t.Fatal("the mix has no Traceloop initialize spans; the test needs them")
	}
	if reader.sessions.Len() != filler.sessions.Len() {
		t.Fatalf("the reader learned %d sessions, the filler %d", reader.sessions.Len(), filler.sessions.Len())
	}
}
