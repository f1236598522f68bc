package testutil

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/sandwatch/sandwatch/internal/archive"
	"github.com/sandwatch/sandwatch/internal/otlpsend"
	"github.com/sandwatch/sandwatch/internal/simulate"
)

// Acked records, per trace, the spans a collector acknowledged, and how
// many requests it refused (back-pressure).
type Acked struct {
	mu      sync.Mutex
	spans   map[string]int
	refused int
}

// NewAcked records what the test sent and was acknowledged by other means.
func NewAcked(spans map[string]int) *Acked { return &Acked{spans: spans} }

// Load sends batches of five simulated invocations of opts' extensions
// until stop is closed and records what the receiver acknowledged (no
// error, nothing rejected).
func Load(t *testing.T, endpoint string, stop <-chan struct{}, opts simulate.Options) *Acked {
	t.Helper()
	a := &Acked{spans: map[string]int{}}
	snd, err := otlpsend.New("grpc", endpoint)
	require.NoError(t, err)
	g := simulate.New(opts)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer snd.Close()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			td := ptrace.NewTraces()
			per := map[string]int{}
			for k := 0; k < 5; k++ {
				inv, _ := g.Invocation(i*5+k, time.Now())
				FreshTraceID(inv, plog.NewLogs())
				id := archive.TraceHex(inv.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).TraceID())
				per[id] += inv.SpanCount()
				inv.ResourceSpans().MoveAndAppendTo(td.ResourceSpans())
			}
			body, _ := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			rejected, err := snd.Send(ctx, otlpsend.Traces, body)
			cancel()
			if err == nil && rejected == 0 {
				a.mu.Lock()
				for id, n := range per {
					a.spans[id] += n
				}
				a.mu.Unlock()
			} else {
				a.mu.Lock()
				a.refused++
				a.mu.Unlock()
				time.Sleep(50 * time.Millisecond)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	t.Cleanup(wg.Wait)
	return a
}

// Missing returns how many acknowledged traces the archive does not return
// exactly: spans lost, or spans duplicated by a retried or replayed write
// (every request carries fresh trace ids, so a trace's acknowledged count
// is exactly what was sent; readers keep one copy per span id).
func (a *Acked) Missing(ctx context.Context, r *archive.Reader) (int, string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	type job struct {
		id   string
		want int
	}
	jobs := make(chan job)
	var mu sync.Mutex
	miss, example := 0, ""
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				id, _ := archive.ParseTraceID(j.id)
				tr, err := r.Get(ctx, id)
				got := 0
				if err == nil {
					got = tr.Spans
				}
				if got != j.want {
					mu.Lock()
					miss++
					example = fmt.Sprintf("%s: %d of %d spans (%v)", j.id, got, j.want, err)
					mu.Unlock()
				}
			}
		}()
	}
	for id, n := range a.spans {
		jobs <- job{id, n}
	}
	close(jobs)
	wg.Wait()
	return miss, example
}

// Refusals returns how many requests the collector refused.
func (a *Acked) Refusals() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.refused
}

// Count returns the acknowledged traces and spans.
func (a *Acked) Count() (traces, spans int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, n := range a.spans {
		spans += n
	}
	return len(a.spans), spans
}

// WaitAllArchived fails the test unless every acknowledged span is in the
// archive r reads within timeout.
func WaitAllArchived(t *testing.T, a *Acked, r *archive.Reader, timeout time.Duration) {
	t.Helper()
	traces, spans := a.Count()
	require.Positive(t, traces, "nothing was acknowledged")
	var miss int
	var example string
	deadline := time.Now().Add(timeout)
	// Wait on the index (one read per write) before the per-trace check.
	for time.Now().Before(deadline) && indexMissing(t, a, r) > 0 {
		time.Sleep(time.Second)
	}
	for {
		miss, example = a.Missing(context.Background(), r)
		if miss == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	require.Zero(t, miss, "acknowledged traces missing from the archive (of %d traces, %d spans); e.g. %s", traces, spans, example)
	t.Logf("all %d acknowledged traces (%d spans) are in the archive", traces, spans)
}

// indexMissing counts acknowledged traces the index does not (yet) cover.
func indexMissing(t *testing.T, a *Acked, r *archive.Reader) int {
	list, err := r.List(context.Background(), archive.ListOptions{})
	if err != nil {
		t.Logf("list: %v", err)
		return 1
	}
	got := make(map[string]int, len(list))
	for _, s := range list {
		got[s.TraceID] = s.Spans
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for id, want := range a.spans {
		if got[id] < want {
			n++
		}
	}
	return n
}

// FreshTraceID gives every span and log record of one invocation a new
// random trace ID: a generator with the seed of an earlier run repeats
// that run's trace IDs, and a collector takes a repeated ID for the same
// trace.
func FreshTraceID(td ptrace.Traces, ld plog.Logs) pcommon.TraceID {
	var id pcommon.TraceID
	_, _ = rand.Read(id[:])
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		sss := td.ResourceSpans().At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			for k := 0; k < sss.At(j).Spans().Len(); k++ {
				sss.At(j).Spans().At(k).SetTraceID(id)
			}
		}
	}
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		sls := ld.ResourceLogs().At(i).ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			for k := 0; k < sls.At(j).LogRecords().Len(); k++ {
				sls.At(j).LogRecords().At(k).SetTraceID(id)
			}
		}
	}
	return id
}
