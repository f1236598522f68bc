package sandboxevent

import (
	"context"
	"sync"
	"unique"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// A BatchScope lets the consumers of one batch share its classification.
// The collector fans one ptrace.Traces (or plog.Logs) out to every
// read-only consumer of a pipeline, with no clone; without a scope each of
// them classifies every record itself. A processor (classify_once) opens
// a scope in the context it passes downstream and closes it when the
// fan-out has returned: the first consumer that asks classifies the batch
// into the scope, the others read that result.
//
// The contracts it keeps:
//   - nothing relies on a scope: a consumer that finds none (the
//     processor is not configured, or a batch processor after it made a
//     new context) classifies for itself, as before;
//   - a result is shared only between classifiers built from equal
//     configs, and only for the batch the scope was opened for (pdata's
//     handle, its pointers compared): a clone, a copy, a batch a connector
//     made and passed on downstream, or another config classifies anew. Each
//     consumer keeps its own classifier and agent-session table; one that
//     reads a shared result learns the batch's sessions into its own
//     table, so the tables stay alike (they see the same stream);
//   - it is bounded: a batch of more than the scope's max records is not
//     kept (its consumers classify for themselves), and the scope holds
//     at most maxScopeEntries results;
//   - it never outlives its batch: Close clears every event (they point
//     into the batch's pdata) and returns the storage to a pool, and a
//     lookup after Close classifies anew.
type BatchScope struct {
	mu sync.Mutex
	// batch is the ptrace.Traces or plog.Logs the scope was opened for:
	// the only batch it classifies. A connector passes its context on to
	// the next pipeline (baseline's anomaly events reach forensic in the
	// same call), and that pipeline's batches are not this one.
	batch   any
	max     int
	closed  bool
	results []result
	stats   ScopeStats
}

// ScopeStats is what a scope did, for the processor's telemetry.
type ScopeStats struct {
	// Classified counts records classified into the scope.
	Classified int64
	// Reused counts records read from the scope by a consumer other than
	// the one that classified them: classifications saved.
	Reused int64
	// Oversize counts records of batches too large to keep.
	Oversize int64
}

// result is one classified batch: its events, by the model that
// classified them.
type result struct {
	model unique.Handle[string]
	// batch is the ptrace.Traces or plog.Logs classified: an interface
	// holding pdata's handle, so == compares its pointers.
	batch  any
	events *[]Event
}

// maxScopeEntries bounds the results one scope holds: one per distinct
// event model among the batch's consumers, in practice one.
const maxScopeEntries = 4

type scopeKey struct{}

// NewBatchScope returns ctx carrying a new scope for batch (a
// ptrace.Traces or plog.Logs) that keeps it if it holds up to maxRecords
// records. The caller must Close it once the batch's consumers have
// returned.
func NewBatchScope(ctx context.Context, batch any, maxRecords int) (context.Context, *BatchScope) {
	s := &BatchScope{batch: batch, max: maxRecords}
	return context.WithValue(ctx, scopeKey{}, s), s
}

func scopeFrom(ctx context.Context) *BatchScope {
	s, _ := ctx.Value(scopeKey{}).(*BatchScope)
	return s
}

// Close drops every result (see the type's contracts) and returns what
// the scope did.
func (s *BatchScope) Close() ScopeStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for _, r := range s.results {
		putEvents(r.events)
	}
	s.results = nil
	return s.stats
}

// spansOf returns td's events classified by c's model, classifying them
// with c on the first call (filled); nil when the scope cannot keep them.
func (s *BatchScope) spansOf(c *Classifier, td ptrace.Traces) (evs []Event, filled bool) {
	return s.resultOf(c.model, td, td.SpanCount(), func(p *[]Event) {
		c.EachSpan(td, func(_ ptrace.Span, ev *Event, _ ptrace.ResourceSpans, _ ptrace.ScopeSpans) {
			*p = append(*p, *ev)
		})
	})
}

// logsOf is spansOf for log records.
func (s *BatchScope) logsOf(c *Classifier, ld plog.Logs) []Event {
	evs, _ := s.resultOf(c.model, ld, ld.LogRecordCount(), func(p *[]Event) {
		c.EachLog(ld, func(_ plog.LogRecord, ev *Event, _ plog.ResourceLogs, _ plog.ScopeLogs) {
			*p = append(*p, *ev)
		})
	})
	return evs
}

// resultOf finds batch's result for model, or makes it with fill (which
// appends the n events) when the scope has room. A batch other than the
// scope's is none of its business: nil.
func (s *BatchScope) resultOf(model unique.Handle[string], batch any, n int, fill func(*[]Event)) (evs []Event, filled bool) {
	if batch != s.batch {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, false
	}
	for _, r := range s.results {
		if r.model == model && r.batch == batch {
			s.stats.Reused += int64(len(*r.events))
			return *r.events, false
		}
	}
	if n > s.max || len(s.results) >= maxScopeEntries {
		s.stats.Oversize += int64(n)
		return nil, false
	}
	p := getEvents(n)
	fill(p)
	s.results = append(s.results, result{model: model, batch: batch, events: p})
	s.stats.Classified += int64(n)
	return *p, true
}

// eventPool recycles the events of closed scopes: a 1,000-span batch
// holds about 400 KB of them.
var eventPool sync.Pool

// maxPooledEvents keeps a large batch's storage (3 MB for 8,192 events)
// from outliving it in the pool: memory_limiter counts what the pool holds.
const maxPooledEvents = 8192

func getEvents(n int) *[]Event {
	if p, ok := eventPool.Get().(*[]Event); ok && cap(*p) >= n {
		return p
	}
	s := make([]Event, 0, n)
	return &s
}

func putEvents(p *[]Event) {
	clear(*p) // the events point into the batch: do not keep it alive
	*p = (*p)[:0]
	if cap(*p) <= maxPooledEvents {
		eventPool.Put(p)
	}
}
