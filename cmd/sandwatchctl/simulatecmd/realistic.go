package simulatecmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/otlpsend"
)

// Summary is what a run reports.
type Summary struct {
	Requests      int64   `json:"requests"`
	Failed        int64   `json:"failed_requests"`
	Spans         int64   `json:"spans"`
	LogRecords    int64   `json:"log_records"`
	RejectedSpans int64   `json:"rejected_spans"`
	RejectedLogs  int64   `json:"rejected_log_records"`
	Invocations   int64   `json:"invocations"`
	Injected      int64   `json:"injected"`
	Seconds       float64 `json:"seconds"`
	SpansPerSec   float64 `json:"spans_per_second"`
	LastError     string  `json:"last_error,omitempty"`

	// Records and RejectedRecords are spans plus log records (what the
	// benchmark harness counts on the agent mix).
	Records         int64 `json:"records"`
	RejectedRecords int64 `json:"rejected_records"`
}

// TruthRecord is one injected attack, as written to --truth.
type TruthRecord struct {
	Scenario    string    `json:"scenario"`
	Anomaly     string    `json:"anomaly"`
	ExtensionID string    `json:"extension_id"`
	TraceID     string    `json:"trace_id"`
	Time        time.Time `json:"time"`
	Secrets     []string  `json:"secrets,omitempty"`
	// Related are the attack's other traces (the read of exfiltration-split).
	Related []string `json:"related_trace_ids,omitempty"`
}

type counters struct {
	requests, failed, spans, logs, rejSpans, rejLogs atomic.Int64
	mu                                               sync.Mutex
	lastErr                                          string
}

func (c *counters) send(ctx context.Context, s otlpsend.Sender, td ptrace.Traces, ld plog.Logs) {
	if td.SpanCount() > 0 {
		if r, err := encodeBatch(td, plog.NewLogs()); err == nil {
			c.do(ctx, s, r.signal, r.body, r.records)
		}
	}
	if ld.LogRecordCount() > 0 {
		if r, err := encodeBatch(ptrace.NewTraces(), ld); err == nil {
			c.do(ctx, s, r.signal, r.body, r.records)
		}
	}
}

func (c *counters) do(ctx context.Context, s otlpsend.Sender, sig otlpsend.Signal, body []byte, n int64) {
	c.requests.Add(1)
	rejected, err := s.Send(ctx, sig, body)
	if err != nil {
		c.failed.Add(1)
		c.mu.Lock()
		c.lastErr = err.Error()
		c.mu.Unlock()
		return
	}
	if sig == otlpsend.Traces {
		c.spans.Add(n)
		c.rejSpans.Add(rejected)
	} else {
		c.logs.Add(n)
		c.rejLogs.Add(rejected)
	}
}

func (c *counters) summary(start time.Time) Summary {
	secs := time.Since(start).Seconds()
	return Summary{
		Requests: c.requests.Load(), Failed: c.failed.Load(), Spans: c.spans.Load(), LogRecords: c.logs.Load(),
		RejectedSpans: c.rejSpans.Load(), RejectedLogs: c.rejLogs.Load(), Seconds: secs,
		Records: c.spans.Load() + c.logs.Load(), RejectedRecords: c.rejSpans.Load() + c.rejLogs.Load(),
		SpansPerSec: float64(c.spans.Load()) / secs, LastError: c.lastErr,
	}
}

func runRealistic(ctx context.Context, out io.Writer, o Options) error {
	if ctx == nil {
		ctx = context.Background()
	}
	sender, err := otlpsend.New(o.Protocol, o.Endpoint)
	if err != nil {
		return err
	}
	defer sender.Close()
	var truth *json.Encoder
	if o.Truth != "" {
		f, err := os.Create(o.Truth)
		if err != nil {
			return fmt.Errorf("--truth: %w", err)
		}
		defer f.Close()
		truth = json.NewEncoder(f)
	}
	g := newSource(o)
	var c counters
	start := time.Now()
	var invocations, injected int64

	// The learning period: every extension's habits, as fast as possible.
	if o.Learn > 0 {
		sem := make(chan struct{}, o.Concurrency)
		var wg sync.WaitGroup
		for round := 0; round < o.Learn; round++ {
			td, ld := ptrace.NewTraces(), plog.NewLogs()
			for ext := 0; ext < o.Extensions; ext++ {
				inv, logs := g.Invocation(ext, time.Now())
				inv.ResourceSpans().MoveAndAppendTo(td.ResourceSpans())
				logs.ResourceLogs().MoveAndAppendTo(ld.ResourceLogs())
				invocations++
			}
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				c.send(ctx, sender, td, ld)
			}()
		}
		wg.Wait()
	}

	// Attack times: each scenario once, at a random time in
	// [attack-after, duration).
	rng := rand.New(rand.NewPCG(o.Seed, 99))
	type attack struct {
		at   time.Duration
		name string
	}
	var attacks []attack
	window := o.Duration - o.AttackAfter
	for _, s := range o.Scenarios {
		at := o.AttackAfter
		if window > 0 {
			at += time.Duration(rng.Int64N(int64(window)))
		}
		attacks = append(attacks, attack{at, s})
	}

	inject := func(name string, td ptrace.Traces, ld plog.Logs) error {
		atd, ald, inj, err := g.Inject(name, rng.IntN(o.Extensions), time.Now())
		if err != nil {
			return err
		}
		atd.ResourceSpans().MoveAndAppendTo(td.ResourceSpans())
		ald.ResourceLogs().MoveAndAppendTo(ld.ResourceLogs())
		injected++
		if truth != nil {
			_ = truth.Encode(TruthRecord{Scenario: inj.Scenario, Anomaly: inj.Anomaly, ExtensionID: inj.ExtensionID,
				TraceID: inj.TraceID.String(), Time: inj.Time, Secrets: inj.Secrets, Related: traceIDs(inj.Related)})
		}
		return nil
	}

	runStart := time.Now()
	interval := time.Duration(float64(time.Second) / o.Rate)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	sem := make(chan struct{}, o.Concurrency)
	var wg sync.WaitGroup
	for n := 0; ; n++ {
		elapsed := time.Since(runStart)
		if o.Duration > 0 && elapsed >= o.Duration {
			break
		}
		ext := rng.IntN(o.Extensions)
		td, ld := g.Invocation(ext, time.Now())
		invocations++
		for i := 0; i < len(attacks); i++ {
			if elapsed < attacks[i].at {
				continue
			}
			if err := inject(attacks[i].name, td, ld); err != nil {
				return err
			}
			attacks = append(attacks[:i], attacks[i+1:]...)
			i--
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			c.send(ctx, sender, td, ld)
		}()
		select {
		case <-ctx.Done():
			wg.Wait()
			return ctx.Err()
		case <-ticker.C:
		}
	}
	// Every requested attack is sent, even one whose time fell after the
	// last tick.
	if len(attacks) > 0 {
		td, ld := ptrace.NewTraces(), plog.NewLogs()
		for _, a := range attacks {
			if err := inject(a.name, td, ld); err != nil {
				return err
			}
		}
		c.send(ctx, sender, td, ld)
	}
	wg.Wait()
	s := c.summary(start)
	s.Invocations, s.Injected = invocations, injected
	return report(out, o.JSON, s)
}

func report(out io.Writer, asJSON bool, s Summary) error {
	if asJSON {
		return json.NewEncoder(out).Encode(s)
	}
	fmt.Fprintf(out, "sent %d spans and %d log records in %d requests over %.1fs (%.0f spans/s); %d invocations, %d attacks injected\n",
		s.Spans, s.LogRecords, s.Requests, s.Seconds, s.SpansPerSec, s.Invocations, s.Injected)
	if s.Failed > 0 || s.RejectedSpans > 0 || s.RejectedLogs > 0 {
		fmt.Fprintf(out, "refused: %d failed requests, %d rejected spans, %d rejected log records (last error: %s)\n",
			s.Failed, s.RejectedSpans, s.RejectedLogs, s.LastError)
	}
	if s.Failed > 0 && s.Records == 0 {
		return fmt.Errorf("no request succeeded: %s", s.LastError)
	}
	return nil
}

func traceIDs(ids []pcommon.TraceID) []string {
	var out []string
	for _, id := range ids {
		out = append(out, id.String())
	}
	return out
}
