package simulatecmd

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/otlpsend"
	"github.com/sandwatch/sandwatch/internal/simulate"
)

// runHighRate encodes o.Batches requests once, then cycles through them
// from o.Concurrency workers until the duration (or max requests) is up.
func runHighRate(ctx context.Context, out io.Writer, o Options) error {
	if ctx == nil {
		ctx = context.Background()
	}
	sender, err := otlpsend.New(o.Protocol, o.Endpoint)
	if err != nil {
		return err
	}
	defer sender.Close()
	g := simulate.New(simulate.Options{Seed: o.Seed, Extensions: o.Extensions})
	type encoded struct {
		body  []byte
		spans int64
	}
	reqs := make([]encoded, o.Batches)
	now := time.Now()
	for i := range reqs {
		td, _ := g.Batch(i*7, o.BatchSpans, now)
		simulate.AddSecrets(td, o.SecretRatio, o.Seed+uint64(i))
		body, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
		if err != nil {
			return err
		}
		reqs[i] = encoded{body, int64(td.SpanCount())}
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
				c.do(ctx, sender, otlpsend.Traces, r.body, r.spans)
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
		fmt.Fprintf(out, "high-rate: %d distinct requests of ~%d spans, %d workers\n", o.Batches, o.BatchSpans, o.Concurrency)
	}
	return nil
}
