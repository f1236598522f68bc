package sandboxmetricsconnector

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"

	"github.com/sandwatch/sandwatch/connector/sandboxmetricsconnector/internal/aggregate"
	"github.com/sandwatch/sandwatch/connector/sandboxmetricsconnector/internal/metadata"
	"github.com/sandwatch/sandwatch/internal/identitymark"
	"github.com/sandwatch/sandwatch/internal/sandboxevent"
)

// sandboxMetrics is both the traces and the logs side of the connector.
type sandboxMetrics struct {
	cfg        *Config
	logger     *zap.Logger
	classifier *sandboxevent.Classifier
	next       consumer.Metrics
	tel        *telemetry
	release    func()

	mu  sync.Mutex // guards agg and the agent state below
	agg *aggregate.Aggregator
	// dedupe counts an agent call once; held are spans waiting for their
	// session's identity (agents.go); repeats and unresolved are counted
	// for the own telemetry since the last report.
	dedupe     *sandboxevent.CallDeduper
	held       sandboxevent.SpanHold
	repeats    int64
	unresolved int64

	lifeMu sync.Mutex // guards refs, stop, done
	refs   int
	stop   chan struct{}
	done   chan struct{}
}

var (
	_ connector.Traces = (*sandboxMetrics)(nil)
	_ connector.Logs   = (*sandboxMetrics)(nil)
)

func newSandboxMetrics(set connector.Settings, cfg *Config, next consumer.Metrics) (*sandboxMetrics, error) {
	classifier, err := sandboxevent.New(cfg.EventModel)
	if err != nil {
		return nil, fmt.Errorf("sandbox_metrics: event_model: %w", err)
	}
	tel, err := newTelemetry(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	return &sandboxMetrics{
		cfg: cfg, logger: set.Logger, classifier: classifier, next: next, tel: tel,
		agg:    aggregate.New(aggregatorConfig(cfg), time.Now().UnixNano()),
		dedupe: sandboxevent.NewCallDeduper(cfg.Agents.DedupeMaxCalls),
		held:   sandboxevent.NewSpanHold(cfg.Agents.SessionWait, cfg.Agents.MaxWaiting),
	}, nil
}

func aggregatorConfig(cfg *Config) aggregate.Config {
	ac := aggregate.Config{
		MaxSeries:        cfg.MaxSeriesPerMetric,
		MaxLabelLength:   cfg.MaxLabelLength,
		Delta:            cfg.AggregationTemporality == "delta",
		Expiry:           int64(cfg.SeriesExpiration),
		UnknownExtension: cfg.UnknownExtension,
	}
	if cfg.Exemplars.Enabled {
		ac.MaxExemplars = cfg.Exemplars.MaxPerDataPoint
	}
	for _, b := range cfg.Histogram.Buckets {
		ac.Bounds = append(ac.Bounds, b.Seconds())
	}
	if cfg.Targets.Enabled {
		ac.TopK = cfg.Targets.TopK
		for _, t := range cfg.Targets.Types {
			ac.TargetTypes = append(ac.TargetTypes, targetTypes[t])
		}
	}
	return ac
}

// Capabilities: the connector only reads its input.
func (c *sandboxMetrics) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

// Start starts the flush loop once, however many pipelines share c.
func (c *sandboxMetrics) Start(context.Context, component.Host) error {
	c.lifeMu.Lock()
	defer c.lifeMu.Unlock()
	c.refs++
	if c.refs == 1 {
		c.stop, c.done = make(chan struct{}), make(chan struct{})
		go c.loop(c.stop, c.done)
	}
	return nil
}

// Shutdown stops the loop when the last pipeline sharing c shuts down,
// after a final flush.
func (c *sandboxMetrics) Shutdown(ctx context.Context) error {
	c.lifeMu.Lock()
	defer c.lifeMu.Unlock()
	if c.refs == 0 {
		return nil // never started
	}
	c.refs--
	if c.refs > 0 {
		return nil
	}
	close(c.stop)
	select {
	case <-c.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	c.mu.Lock()
	c.releaseHeld(time.Now().UnixNano(), true)
	c.mu.Unlock()
	c.flush(ctx)
	c.tel.shutdown()
	if c.release != nil {
		c.release()
	}
	return nil
}

func (c *sandboxMetrics) loop(stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(c.cfg.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			c.flush(context.Background())
		}
	}
}

// flush sends the current series downstream; the lock is not held while
// the next consumer runs.
func (c *sandboxMetrics) flush(ctx context.Context) {
	md := pmetric.NewMetrics()
	sm := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty()
	sm.Scope().SetName(metadata.ScopeName)
	c.mu.Lock()
	now := time.Now().UnixNano()
	c.releaseHeld(now, false)
	c.agg.Collect(now, sm.Metrics())
	st := c.agg.Stats()
	ag := c.agentStats()
	c.mu.Unlock()
	c.tel.record(ctx, st, 0)
	c.tel.recordAgents(ctx, ag)
	if sm.Metrics().Len() == 0 {
		return
	}
	if err := c.next.ConsumeMetrics(ctx, md); err != nil {
		c.logger.Warn("sandbox_metrics: sending metrics failed", zap.Error(err))
	}
}

// ConsumeTraces classifies every span and aggregates it.
func (c *sandboxMetrics) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
	now := time.Now().UnixNano()
	c.mu.Lock()
	c.classifier.EachSpanShared(ctx, td, func(span ptrace.Span, ev *sandboxevent.Event, rs ptrace.ResourceSpans, _ ptrace.ScopeSpans) {
		c.recordSpan(span, ev, rs, now, true)
	})
	c.agg.EndBatch()
	// This batch may have named the sessions of spans held from earlier ones.
	c.releaseHeld(now, false)
	st := c.agg.Stats()
	ag := c.agentStats()
	c.mu.Unlock()
	c.tel.record(ctx, st, 0)
	c.tel.recordAgents(ctx, ag)
	return nil
}

// ConsumeLogs aggregates capability-audit and monitor log records.
func (c *sandboxMetrics) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	now := time.Now().UnixNano()
	var ex aggregate.Exemplar
	var malformed int64
	c.mu.Lock()
	c.classifier.EachLogShared(ctx, ld, func(rec plog.LogRecord, ev *sandboxevent.Event, rl plog.ResourceLogs, _ plog.ScopeLogs) {
		if _, flagged := identitymark.Check(rl.Resource().Attributes(), rec.Attributes()); flagged {
			return
		}
		if isMalformed(rec) {
			malformed++
		}
		var exp *aggregate.Exemplar
		if tid := rec.TraceID(); !tid.IsEmpty() {
			ex.TraceID, ex.SpanID, ex.Time = tid, rec.SpanID(), rec.Timestamp()
			if ex.Time == 0 {
				ex.Time = rec.ObservedTimestamp()
			}
			exp = &ex
		}
		if sandboxevent.IsCall(ev) && c.dedupe.Repeat(ev, pcommon.SpanID{}, pcommon.SpanID{}) {
			c.repeats++
			return
		}
		c.agg.RecordLog(ev, exp, now)
	})
	c.agg.EndBatch()
	st := c.agg.Stats()
	ag := c.agentStats()
	c.mu.Unlock()
	c.tel.record(ctx, st, malformed)
	c.tel.recordAgents(ctx, ag)
	return nil
}

// MalformedAttribute flags a log record that a parser could not read (the
// default config's file_log operators set it on audit-log lines that are
// not a JSON object); such records are counted, and kept, not dropped.
const MalformedAttribute = "sandwatch.malformed"

func isMalformed(rec plog.LogRecord) bool {
	v, ok := rec.Attributes().Get(MalformedAttribute)
	return ok && v.Type() == pcommon.ValueTypeBool && v.Bool()
}
