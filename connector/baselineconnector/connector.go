package baselineconnector

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/detect"
	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/kaudit"
	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/persist"
	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/profile"
	"github.com/sandwatch/sandwatch/internal/pathtemplate"
	"github.com/sandwatch/sandwatch/internal/sandboxevent"
)

// baseline is the shared detector behind every signal pair of one
// connector id.
type baseline struct {
	cfg        *Config
	set        connector.Settings
	classifier *sandboxevent.Classifier
	rules      *rules
	tel        *telemetry
	now        func() time.Time

	mu    sync.Mutex // guards eng, audit and series
	eng   *detect.Engine
	audit *kaudit.Parser
	// auditState: what the kernel cross-check has warned about (unreported_audit.go).
	auditState auditState
	calls      *sandboxevent.CallDeduper // one agent tool call counted once
	held       sandboxevent.SpanHold     // spans awaiting their session (hold.go)
	series     *series
	logs       consumer.Logs
	metrics    consumer.Metrics

	lifeMu      sync.Mutex
	starts      int
	hasTracesIn bool
	hasLogsIn   bool
	client      storage.Client
	shared      *sharedStore // profiles in a store shared by gateway replicas (shared.go)
	stop        chan struct{}
	done        chan struct{}
	release     func()
	// noSave is set when stored state could not be read: never clobber
	// a file this build does not understand.
	noSave       bool
	noSaveAgents bool // the same for the agent profiles (persist_agents.go)
	lastSave     time.Time
	lastMetrics  time.Time
}

func newBaseline(cfg *Config, set connector.Settings) (*baseline, error) {
	cls, err := sandboxevent.New(cfg.EventModel)
	if err != nil {
		return nil, fmt.Errorf("baseline: event_model: %w", err)
	}
	tpl, err := pathtemplate.New(pathtemplate.Options{Templates: cfg.PathTemplates})
	if err != nil {
		return nil, fmt.Errorf("baseline: path_templates: %w", err)
	}
	rl, err := compileRules(cfg.Rules, set.TelemetrySettings)
	if err != nil {
		return nil, fmt.Errorf("baseline: rules: %w", err)
	}
	eng, err := detect.New(engineSettings(cfg, tpl))
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	tel, err := newTelemetry(set.TelemetrySettings)
	if err != nil {
		return nil, fmt.Errorf("baseline: telemetry: %w", err)
	}
	return &baseline{cfg: cfg, set: set, classifier: cls, rules: rl, tel: tel, now: time.Now, eng: eng, audit: newAuditParser(cfg),
		calls: sandboxevent.NewCallDeduper(0), series: newSeries(cfg.MaxAnomalySeries, time.Now()),
		held: sandboxevent.NewSpanHold(cfg.Agents.SessionWait, cfg.Agents.MaxWaiting)}, nil
}

func engineSettings(cfg *Config, tpl *pathtemplate.Templater) detect.Settings {
	s := detect.Settings{
		Detectors: cfg.Detectors, LearnInvocations: cfg.LearnInvocations, LearnWindow: cfg.LearnWindow,
		MinSamples: cfg.MinSamples, HalfLife: cfg.HalfLife, Limits: cfg.MaxTargets.limits(),
		MaxExtensions: cfg.MaxExtensions, MaxTraces: cfg.MaxTraces, IdleTimeout: cfg.IdleTimeout, TraceTTL: cfg.TraceTTL,
		DedupInterval: cfg.DedupInterval, MaxDedup: 100000, Templater: tpl,
		TemplateHosts: cfg.TemplateHosts, VersionRelearn: cfg.VersionRelearn, Sensitive: cfg.Sensitive,
		Agents: cfg.Agents.settings(), MaxFolded: cfg.DedupMaxFolded,
	}
	s.Limits.MaxTools = cfg.Agents.MaxTools
	if len(cfg.Profiles) > 0 {
		s.Declared = make(map[string]*profile.DeclaredSpec, len(cfg.Profiles))
		for id := range cfg.Profiles {
			spec := cfg.Profiles[id]
			s.Declared[id] = &spec
		}
	}
	return s
}

func (b *baseline) setLogs(next consumer.Logs) {
	b.lifeMu.Lock()
	defer b.lifeMu.Unlock()
	if b.logs == nil {
		b.logs = next
	}
}

func (b *baseline) setMetrics(next consumer.Metrics) {
	b.lifeMu.Lock()
	defer b.lifeMu.Unlock()
	if b.metrics == nil {
		b.metrics = next
	}
}

func (b *baseline) Start(ctx context.Context, host component.Host) error {
	b.lifeMu.Lock()
	defer b.lifeMu.Unlock()
	b.starts++
	if b.starts > 1 {
		return nil
	}
	if b.cfg.Storage != nil {
		if err := b.loadState(ctx, host); err != nil {
			return err
		}
	}
	if b.cfg.SharedStore != nil {
		s, err := newSharedStore(ctx, b)
		if err != nil {
			return err
		}
		b.shared = s
	}
	now := b.now()
	b.lastSave, b.lastMetrics = now, now
	b.stop, b.done = make(chan struct{}), make(chan struct{})
	go b.loop()
	if b.shared != nil {
		b.shared.start()
	}
	return nil
}

func (b *baseline) loadState(ctx context.Context, host component.Host) error {
	ext, ok := host.GetExtensions()[*b.cfg.Storage]
	if !ok {
		return fmt.Errorf("baseline: storage: extension %q is not configured; add it under extensions: and service.extensions", b.cfg.Storage.String())
	}
	se, ok := ext.(storage.Extension)
	if !ok {
		return fmt.Errorf("baseline: storage: extension %q is not a storage extension (use file_storage)", b.cfg.Storage.String())
	}
	client, err := se.GetClient(ctx, component.KindConnector, b.set.ID, "")
	if err != nil {
		return fmt.Errorf("baseline: storage: get client: %w", err)
	}
	b.client = client
	snaps, err := persist.Load(ctx, client)
	if err != nil {
		b.noSave = true
		b.set.Logger.Error("baseline: stored profiles not loaded; learning afresh and not overwriting them", zap.Error(err))
		return nil
	}
	b.mu.Lock()
	b.eng.Restore(snaps)
	b.mu.Unlock()
	b.set.Logger.Info("baseline: profiles loaded", zap.Int("profiles", len(snaps)))
	b.loadAgents(ctx)
	return nil
}

func (b *baseline) tickEvery() time.Duration {
	return min(max(b.cfg.IdleTimeout/4, 10*time.Millisecond), 250*time.Millisecond)
}

func (b *baseline) loop() {
	defer close(b.done)
	t := time.NewTicker(b.tickEvery())
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			b.tick(context.Background(), false)
		}
	}
}

// tick judges idle invocations, emits dedup summaries, and at their
// intervals the metrics and a save.
func (b *baseline) tick(ctx context.Context, final bool) {
	now := b.now()
	b.mu.Lock()
	b.flushAuditLocked(now)
	b.releaseHeldLocked(now.UnixNano(), final)
	if final {
		b.eng.Flush(now.UnixNano())
	} else {
		b.eng.Tick(now.UnixNano())
	}
	ld := b.drainLocked(now)
	var md = b.metricsDueLocked(now, final)
	b.mu.Unlock()
	b.send(ctx, ld, md)
	if b.client != nil && !b.noSave && (final || now.Sub(b.lastSave) >= b.cfg.SaveInterval) {
		b.lastSave = now
		if err := b.save(ctx, now); err != nil {
			b.set.Logger.Warn("baseline: saving profiles failed", zap.Error(err))
		}
	}
}

func (b *baseline) save(ctx context.Context, now time.Time) error {
	b.mu.Lock()
	snaps := b.eng.Snapshot()
	b.mu.Unlock()
	if err := persist.Save(ctx, b.client, snaps, now); err != nil {
		return err
	}
	return b.saveAgents(ctx, now)
}

func (b *baseline) Shutdown(ctx context.Context) error {
	b.lifeMu.Lock()
	defer b.lifeMu.Unlock()
	if b.starts == 0 {
		return nil
	}
	b.starts--
	if b.starts > 0 {
		return nil
	}
	close(b.stop)
	<-b.done
	if b.shared != nil {
		b.shared.shutdown()
	}
	b.tick(ctx, true)
	var err error
	if b.shared != nil {
		err = b.shared.close(ctx)
		b.shared = nil
	}
	if b.client != nil {
		err = errors.Join(err, b.client.Close(ctx))
		b.client = nil
	}
	if b.release != nil {
		b.release()
	}
	return err
}

func (b *baseline) send(ctx context.Context, ld plog.Logs, md pmetricsOrNil) {
	var errs []error
	if ld.LogRecordCount() > 0 && b.logs != nil {
		errs = append(errs, b.logs.ConsumeLogs(ctx, ld))
	}
	if md != nil && b.metrics != nil {
		errs = append(errs, b.metrics.ConsumeMetrics(ctx, *md))
	}
	if err := errors.Join(errs...); err != nil {
		b.set.Logger.Debug("baseline: downstream refused output", zap.Error(err))
	}
}

func (b *baseline) consumeTraces(ctx context.Context, td ptrace.Traces) error {
	now := b.now()
	ts := now.UnixNano()
	b.mu.Lock()
	var procs processCache
	b.classifier.EachSpanShared(ctx, td, func(span ptrace.Span, ev *sandboxevent.Event, rs ptrace.ResourceSpans, ss ptrace.ScopeSpans) {
		sp := detect.Span{TraceID: span.TraceID(), SpanID: span.SpanID(), IsRoot: span.ParentSpanID().IsEmpty(),
			Start: int64(span.StartTimestamp()), End: int64(span.EndTimestamp())}
		// A flagged span is reported before any hold: it never teaches.
		if b.identityMismatch(rs.Resource().Attributes(), span.Attributes(), ev, sp, ts) {
			return
		}
		if b.held.Add(span, ev, rs, ts) {
			return
		}
		sp.Repeat = sandboxevent.IsCall(ev) && b.calls.Repeat(ev, span.SpanID(), span.ParentSpanID())
		b.observe(ev, sp, ts)
		if pr, ok := procs.of(rs.Resource()); ok && ev.ExtensionID != "" {
			b.eng.ObserveProcess(pr, ev.ExtensionID, sp.TraceID, sp.SpanID, sp.Start, sp.End, ev.Target)
			b.observeRecordProcess(pr, rs.Resource().Attributes(), sp.TraceID, span.Attributes())
		}
		if len(b.rules.spans) > 0 {
			b.rules.evalSpan(ctx, rs, ss, span, func(name string, sev detect.Severity) {
				b.eng.Report(ruleAnomaly(name, sev, ev, sp, ts))
			})
		}
	})
	b.releaseHeldLocked(ts, false) // this batch may have named their sessions
	b.eng.EndBatch(ts)
	ld := b.drainLocked(now)
	b.mu.Unlock()
	b.send(ctx, ld, nil)
	return nil
}

func (b *baseline) consumeLogs(ctx context.Context, in plog.Logs) error {
	now := b.now()
	ts := now.UnixNano()
	b.mu.Lock()
	var procs processCache
	access := func(a detect.Access) { b.eng.ObserveAccess(a, ts) }
	b.classifier.EachLogShared(ctx, in, func(rec plog.LogRecord, ev *sandboxevent.Event, rl plog.ResourceLogs, sl plog.ScopeLogs) {
		if b.identityMismatch(rl.Resource().Attributes(), rec.Attributes(), ev,
			detect.Span{TraceID: rec.TraceID(), SpanID: rec.SpanID()}, ts) {
			return
		}
		// Kernel audit records (auditd, Falco, Tetragon) feed
		// unreported_access only.
		if b.audit.Parse(rl.Resource().Attributes(), rec, ts, access) {
			return
		}
		t := int64(rec.Timestamp())
		sp := detect.Span{TraceID: rec.TraceID(), SpanID: rec.SpanID(), Start: t, End: t}
		sp.Repeat = sandboxevent.IsCall(ev) && b.calls.Repeat(ev, pcommon.SpanID{}, pcommon.SpanID{})
		b.observe(ev, sp, ts)
		if pr, ok := procs.of(rl.Resource()); ok && ev.ExtensionID != "" && sp.TraceID != ([16]byte{}) {
			b.eng.ObserveProcess(pr, ev.ExtensionID, sp.TraceID, sp.SpanID, sp.Start, sp.End, ev.Target)
			b.observeRecordProcess(pr, rl.Resource().Attributes(), sp.TraceID, rec.Attributes())
		}
		if len(b.rules.logs) > 0 {
			b.rules.evalLog(ctx, rl, sl, rec, func(name string, sev detect.Severity) {
				b.eng.Report(ruleAnomaly(name, sev, ev, sp, ts))
			})
		}
	})
	b.flushAuditLocked(now)
	b.eng.EndBatch(ts)
	ld := b.drainLocked(now)
	b.mu.Unlock()
	b.send(ctx, ld, nil)
	return nil
}

func ruleAnomaly(name string, sev detect.Severity, ev *sandboxevent.Event, sp detect.Span, now int64) detect.Anomaly {
	return detect.Anomaly{Type: name, Rule: name, Severity: sev, ExtensionID: detect.Clip(ev.ExtensionID), Target: detect.Clip(ev.Target),
		Observed: "matched rule " + name, Expected: "no match", Score: 1, TraceID: sp.TraceID, SpanID: sp.SpanID, Time: now}
}

// tracesIn and logsIn are the per-signal faces of one baseline. The
// collector builds one connector per (input, output) pair and feeds every
// one of them the same data (traces->logs and traces->metrics both see
// each span), so only the first face of each input signal observes; the
// others only start and stop, or every span would count twice.
type tracesIn struct{ face }

type logsIn struct{ face }

// face is what the two have in common: whether it observes, and that it
// only reads.
type face struct {
	*baseline
	primary bool
}

func (face) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

// claim reports whether the caller is the first face of a signal (has
// records that one exists).
func (b *baseline) claim(has *bool) bool {
	b.lifeMu.Lock()
	defer b.lifeMu.Unlock()
	first := !*has
	*has = true
	return first
}

func (b *baseline) newTracesIn() *tracesIn {
	return &tracesIn{face{baseline: b, primary: b.claim(&b.hasTracesIn)}}
}

func (b *baseline) newLogsIn() *logsIn {
	return &logsIn{face{baseline: b, primary: b.claim(&b.hasLogsIn)}}
}

func (t *tracesIn) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
	if !t.primary {
		return nil
	}
	return t.consumeTraces(ctx, td)
}

func (l *logsIn) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	if !l.primary {
		return nil
	}
	return l.consumeLogs(ctx, ld)
}
