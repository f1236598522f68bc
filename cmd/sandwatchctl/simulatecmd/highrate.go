package simulatecmd

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/otlpsend"
	"github.com/sandwatch/sandwatch/internal/simulate"
)

// runHighRate encodes the requests once (encodeHighRate), then cycles
// through them from o.Concurrency workers until the duration (or max
// requests) is up.
func runHighRate(ctx context.Context, out io.Writer, o Options) error {
	if ctx == nil {
		ctx = context.Background()
	}
	sender, err := otlpsend.New(o.Protocol, o.Endpoint)
	if err != nil {
		return err
	}
	defer sender.Close()
	reqs, err := encodeHighRate(o, time.Now())
	if err != nil {
		return err
	}
	if o.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Duration)
		defer cancel()
	}
	var c counters
	start := time.Now()
	// With --span-rate, request i may not start before start + i*interval.
	var interval time.Duration
	if o.SpanRate > 0 {
		interval = time.Duration(float64(time.Second) * float64(o.BatchSpans) / o.SpanRate)
	}
	var next int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < o.Concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if o.MaxRequests > 0 && i >= int64(o.MaxRequests) {
					return
				}
				if interval > 0 {
					if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
						select {
						case <-ctx.Done():
							return
						case <-time.After(wait):
						}
					}
				}
				r := reqs[i%int64(len(reqs))]
				c.do(ctx, sender, r.signal, r.body, r.records)
			}
		}()
	}
	wg.Wait()
	s := c.summary(start)
	// Requests cut off by the deadline are not failures of the collector.
	if ctx.Err() != nil && s.Failed > 0 && s.Failed <= int64(o.Concurrency) {
		s.Failed, s.LastError = 0, ""
	}
	if err := report(out, o.JSON, s); err != nil {
		return err
	}
	if !o.JSON {
		fmt.Fprintf(out, "high-rate: %d distinct requests of ~%d records, %d workers\n", len(reqs), o.BatchSpans, o.Concurrency)
	}
	return nil
}

// encoded is one pre-encoded export request.
type encoded struct {
	signal  otlpsend.Signal
	body    []byte
	records int64 // spans or log records
}

// encodeHighRate builds the requests the high-rate mode cycles through:
// o.Batches traces requests of the extension mix (with o.SecretRatio of
// the spans carrying credentials), or, with --agents, the agent mix's
// traces and logs requests in the order and proportion the agent
// generator produces them (simulate.AgentGenerator.Batches).
func encodeHighRate(o Options, now time.Time) ([]encoded, error) {
	if o.Agents {
		// The collector counts a call it has seen as a repeat (an
		// exporter's retry) and skips most of its work: by default the
		// cycle holds twice the calls the event model's deduper
		// remembers, so that every call comes again only once forgotten,
		// as new calls would.
		var reqs []encoded
		for _, b := range simulate.NewAgents(o.agentOptions()).Batches(o.Batches, o.BatchSpans, o.CycleCalls, now) {
			r, err := encodeBatch(b.Traces, b.Logs)
			if err != nil {
				return nil, err
			}
			reqs = append(reqs, r)
		}
		return reqs, nil
	}
	g := simulate.New(simulate.Options{Seed: o.Seed, Extensions: o.Extensions})
	reqs := make([]encoded, o.Batches)
	for i := range reqs {
		td, _ := g.Batch(i*7, o.BatchSpans, now)
		simulate.AddSecrets(td, o.SecretRatio, o.Seed+uint64(i))
		r, err := encodeBatch(td, plog.NewLogs())
		if err != nil {
			return nil, err
		}
		reqs[i] = r
	}
	return reqs, nil
}

// encodeBatch encodes td, or ld when td is empty.
func encodeBatch(td ptrace.Traces, ld plog.Logs) (encoded, error) {
	if td.SpanCount() > 0 {
		body, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
		return encoded{otlpsend.Traces, body, int64(td.SpanCount())}, err
	}
	body, err := (&plog.ProtoMarshaler{}).MarshalLogs(ld)
	return encoded{otlpsend.Logs, body, int64(ld.LogRecordCount())}, err
}
