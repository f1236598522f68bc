package forensicexporter

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper/xexporterhelper"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
	"gocloud.dev/blob"

	"github.com/sandwatch/sandwatch/exporter/forensicexporter/internal/metadata"
	"github.com/sandwatch/sandwatch/internal/archive"
	"github.com/sandwatch/sandwatch/internal/archive/otlppage"
	"github.com/sandwatch/sandwatch/internal/sandboxevent"
)

// archiver writes through: a push returns nil only once every object of
// the batch is stored, so the sending queue (and, with storage, the
// persistent queue) keeps the data until then. Grouping spans per trace
// over a window is the queue's batcher's job (flush_timeout, min_size), not
// an in-memory buffer of ours that would acknowledge data it still holds.
type archiver struct {
	cfg    *Config
	logger *zap.Logger
	onDone func()
	// classifier names each trace's extension in the catalog; behind
	// classify_once it reads the batch's shared classification instead.
	classifier *sandboxevent.Classifier

	mu       sync.Mutex
	refs     int
	bucket   *blob.Bucket
	writer   *archive.Writer
	reader   *archive.Reader
	stop     chan struct{}
	stopped  chan struct{}
	kick     chan struct{} // a write asks for a compaction
	unmerged atomic.Int64  // lookup runs written since the last compaction

	wal *walPath // nil without wal.directory

	objects, bytes, failures, items, pruned, merged metric.Int64Counter
	walRefused, walDamaged, walCut                  metric.Int64Counter
	attrSpans, attrLogs                             metric.MeasurementOption
}

func newArchiver(set exporter.Settings, cfg *Config, onDone func()) (*archiver, error) {
	classifier, err := sandboxevent.New(cfg.EventModel)
	if err != nil {
		return nil, fmt.Errorf("event_model: %w", err)
	}
	a := &archiver{cfg: cfg, logger: set.Logger, onDone: onDone,
		attrSpans: metric.WithAttributeSet(attribute.NewSet(attribute.String("signal", "traces"))),
		attrLogs:  metric.WithAttributeSet(attribute.NewSet(attribute.String("signal", "logs")))}
	m := set.MeterProvider.Meter(metadata.ScopeName)
	var errs []error
	mk := func(name, desc, unit string) metric.Int64Counter {
		c, err := m.Int64Counter(name, metric.WithDescription(desc), metric.WithUnit(unit))
		errs = append(errs, err)
		return c
	}
	a.objects = mk("sandwatch_forensic_objects_written", "Objects written to the forensic archive.", "{object}")
	a.bytes = mk("sandwatch_forensic_bytes_written", "Bytes written to the forensic archive (compressed).", "By")
	a.failures = mk("sandwatch_forensic_write_failures", "Batches whose write failed (retried by the sending queue).", "{batch}")
	a.items = mk("sandwatch_forensic_items_archived", "Spans (signal=traces) and log records (signal=logs) archived.", "{item}")
	a.pruned = mk("sandwatch_forensic_objects_pruned", "Objects deleted by retention.", "{object}")
	a.merged = mk("sandwatch_forensic_lookup_runs_merged", "Lookup runs merged by compaction.", "{run}")
	a.walRefused = mk("sandwatch_forensic_wal_refused", "Batches refused because the WAL was at max_bytes (back-pressure; the sender retries).", "{batch}")
	a.walDamaged = mk("sandwatch_forensic_wal_unreadable", "WAL records skipped because no write accepts them.", "{batch}")
	a.walCut = mk("sandwatch_forensic_wal_cut", "Bytes of torn or damaged WAL tails cut at start-up.", "By")
	_, err = m.Int64ObservableGauge("sandwatch_forensic_wal_bytes",
		metric.WithDescription("Bytes held by the forensic WAL (both signals; bounded by wal.max_bytes)."), metric.WithUnit("By"),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			a.mu.Lock()
			w := a.wal
			a.mu.Unlock()
			if w != nil {
				o.Observe(w.budget.Used())
			}
			return nil
		}))
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	a.classifier = classifier
	a.writer = &archive.Writer{Format: cfg.format(), Extensions: extensions(classifier), Lock: cfg.S3.ObjectLock,
		Anomalies: anomalyIndex.Find}
	if a.writer.Keys, err = cfg.Encryption.Ring(); err != nil {
		return nil, err
	}
	return a, nil
}

// extensions names each trace's extension through the shared event model.
func extensions(c *sandboxevent.Classifier) archive.Extensions {
	return archive.Extensions{
		OfSpan: func(res pcommon.Resource, span ptrace.Span) string {
			var rc sandboxevent.ResourceContext
			var ev sandboxevent.Event
			c.LoadResource(res.Attributes(), &rc)
			c.ClassifySpan(span, &rc, &ev)
			return ev.ExtensionID
		},
		OfLog: func(res pcommon.Resource, rec plog.LogRecord) string {
			var rc sandboxevent.ResourceContext
			var ev sandboxevent.Event
			c.LoadResource(res.Attributes(), &rc)
			c.ClassifyLog(rec, &rc, &ev)
			return ev.ExtensionID
		},
	}
}

func (a *archiver) start(ctx context.Context, _ component.Host) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.refs++
	if a.refs > 1 {
		return nil
	}
	b, local, err := archive.Open(ctx, a.cfg.Store, a.cfg.S3)
	if err != nil {
		return fmt.Errorf("forensic: %w", err)
	}
	d, err := a.cfg.Integrity.Start(ctx, b, a.cfg.S3.ObjectLock, a.cfg.MaxAge, func(err error) {
		a.logger.Warn("forensic archive digest not stored; retried at the next interval", zap.Error(err))
	})
	if err != nil {
		_ = b.Close()
		return fmt.Errorf("forensic: %w", err)
	}
	a.bucket = b
	a.writer.Bucket = b
	a.writer.Digester = d
	a.reader = &archive.Reader{Bucket: b, LocalDir: local, Keys: a.writer.Keys, Digester: d}
	a.stop, a.stopped, a.kick = make(chan struct{}), make(chan struct{}), make(chan struct{}, 1)
	if a.cfg.WAL.enabled() {
		if err := a.openWAL(); err != nil {
			_ = b.Close()
			return err
		}
		a.startCutters(a.stop)
	}
	go a.maintain()
	return nil
}

func (a *archiver) shutdown(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.refs == 0 {
		return nil // never started
	}
	a.refs--
	if a.refs > 0 {
		return nil
	}
	close(a.stop)
	<-a.stopped
	var walErr error
	if a.wal != nil {
		walErr = a.wal.close() // after the cutters' last writes
	}
	a.onDone()
	err := walErr
	if a.writer.Digester != nil {
		err = errors.Join(err, a.writer.Digester.Close(ctx)) // the last interval's digest, after the cutters' last blocks
	}
	if a.bucket != nil {
		err = errors.Join(err, a.bucket.Close())
	}
	return err
}

// tracesRequest marshals what the pipeline hands over, once, into the
// request the queue holds until it is archived.
func (a *archiver) tracesRequest(ctx context.Context, td ptrace.Traces) (xexporterhelper.Request, error) {
	ext := a.writer.Extensions
	if evs := a.classifier.SpanEventsIn(ctx, td); evs != nil {
		ext.ItemAt = func(n int) string { return evs[n].ExtensionID } // classify_once's result
	}
	b, err := archive.EncodeTraces(td, ext)
	if err != nil {
		return nil, err
	}
	return &batchRequest{b: b}, nil
}

func (a *archiver) logsRequest(ctx context.Context, ld plog.Logs) (xexporterhelper.Request, error) {
	ext := a.writer.Extensions
	if evs := a.classifier.LogEventsIn(ctx, ld); evs != nil {
		ext.ItemAt = func(n int) string { return evs[n].ExtensionID }
	}
	b, err := archive.EncodeLogs(ld, ext)
	if err != nil {
		return nil, err
	}
	return &batchRequest{b: b}, nil
}

// push archives one (merged) request.
func (a *archiver) push(ctx context.Context, r xexporterhelper.Request) error {
	br, ok := r.(*batchRequest)
	if !ok {
		return consumererror.NewPermanent(fmt.Errorf("forensic: unexpected request %T", r))
	}
	attrs := a.attrSpans
	if br.b.Kind == archive.KindLogs {
		attrs = a.attrLogs
	}
	st, err := a.writer.Write(ctx, br.b)
	if errors.Is(err, otlppage.ErrMalformed) || errors.Is(err, archive.ErrItemMismatch) {
		// Bytes that do not paginate will not on a retry either.
		a.failures.Add(ctx, 1, attrs)
		return consumererror.NewPermanent(fmt.Errorf("forensic archive: dropping an unreadable batch of %d items: %w", br.b.Len(), err))
	}
	return a.record(ctx, st, err, attrs)
}

func (a *archiver) record(ctx context.Context, st archive.WriteStats, err error, attrs metric.MeasurementOption) error {
	if err != nil {
		a.failures.Add(ctx, 1, attrs)
		return fmt.Errorf("forensic archive: %w", err) // retryable: the queue tries again
	}
	if st.Objects > 0 && a.unmerged.Add(1) >= int64(a.cfg.Compaction.Fanout) {
		select {
		case a.kick <- struct{}{}:
		default: // one is pending
		}
	}
	a.objects.Add(ctx, int64(st.Objects), attrs)
	a.bytes.Add(ctx, st.Bytes, attrs)
	a.items.Add(ctx, int64(st.Items), attrs)
	return nil
}

// maintain runs compaction (after every Fanout writes, and every
// compaction.interval) and retention (every prune_interval) in one
// goroutine, so the two never race each other within a collector.
func (a *archiver) maintain() {
	defer close(a.stopped)
	var compactTick, pruneTick <-chan time.Time
	if a.cfg.Compaction.Interval > 0 {
		t := time.NewTicker(a.cfg.Compaction.Interval)
		defer t.Stop()
		compactTick = t.C
	}
	if a.cfg.MaxAge > 0 && a.cfg.PruneInterval > 0 {
		a.pruneOnce()
		t := time.NewTicker(a.cfg.PruneInterval)
		defer t.Stop()
		pruneTick = t.C
	}
	for {
		select {
		case <-a.stop:
			return
		case <-a.kick:
			a.compactOnce()
		case <-compactTick:
			a.compactOnce()
		case <-pruneTick:
			a.pruneOnce()
		}
	}
}

// stoppable is a context cancelled when the exporter shuts down.
func (a *archiver) stoppable() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-a.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

func (a *archiver) compactOnce() {
	ctx, cancel := a.stoppable()
	defer cancel()
	a.unmerged.Store(0)
	c := archive.Compaction{Fanout: a.cfg.Compaction.Fanout, MaxMergeBytes: a.cfg.Compaction.MaxMergeBytes}
	if a.cfg.MaxAge > 0 {
		c.Cutoff = time.Now().Add(-a.cfg.MaxAge)
	}
	st, err := a.reader.Compact(ctx, c)
	if st.Merged > 0 {
		a.merged.Add(ctx, int64(st.Merged))
	}
	if err != nil && ctx.Err() == nil {
		a.logger.Warn("forensic archive compaction failed; lookups stay correct, retried after the next writes", zap.Error(err))
	}
}

func (a *archiver) pruneOnce() {
	ctx, cancel := a.stoppable()
	defer cancel()
	st, err := a.reader.Prune(ctx, time.Now().Add(-a.cfg.MaxAge))
	if n := st.Objects + st.IndexObjects; n > 0 {
		a.pruned.Add(ctx, int64(n))
	}
	if err != nil && ctx.Err() == nil {
		a.logger.Warn("forensic archive prune failed; retried at the next interval", zap.Error(err))
	}
}
