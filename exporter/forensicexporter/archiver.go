package forensicexporter

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
	"gocloud.dev/blob"

	"github.com/sandwatch/sandwatch/exporter/forensicexporter/internal/metadata"
	"github.com/sandwatch/sandwatch/internal/archive"
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

	mu      sync.Mutex
	refs    int
	bucket  *blob.Bucket
	writer  *archive.Writer
	reader  *archive.Reader
	stop    chan struct{}
	stopped chan struct{}

	objects, bytes, failures, items, pruned metric.Int64Counter
	attrSpans, attrLogs                     metric.MeasurementOption
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
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	a.writer = &archive.Writer{Format: cfg.format(), Concurrency: cfg.MaxConcurrentWrites,
		Extensions: extensions(classifier)}
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
	a.bucket = b
	a.writer.Bucket = b
	a.reader = &archive.Reader{Bucket: b, LocalDir: local}
	if a.cfg.MaxAge > 0 && a.cfg.PruneInterval > 0 {
		a.stop, a.stopped = make(chan struct{}), make(chan struct{})
		go a.pruneLoop()
	}
	return nil
}

func (a *archiver) shutdown(context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.refs == 0 {
		return nil // never started
	}
	a.refs--
	if a.refs > 0 {
		return nil
	}
	if a.stop != nil {
		close(a.stop)
		<-a.stopped
	}
	a.onDone()
	if a.bucket != nil {
		return a.bucket.Close()
	}
	return nil
}

func (a *archiver) pushTraces(ctx context.Context, td ptrace.Traces) error {
	st, err := a.writer.WriteTraces(ctx, td)
	return a.record(ctx, st, err, a.attrSpans)
}

func (a *archiver) pushLogs(ctx context.Context, ld plog.Logs) error {
	st, err := a.writer.WriteLogs(ctx, ld)
	return a.record(ctx, st, err, a.attrLogs)
}

func (a *archiver) record(ctx context.Context, st archive.WriteStats, err error, attrs metric.MeasurementOption) error {
	if err != nil {
		a.failures.Add(ctx, 1, attrs)
		return fmt.Errorf("forensic archive: %w", err) // retryable: the queue tries again
	}
	a.objects.Add(ctx, int64(st.Objects), attrs)
	a.bytes.Add(ctx, st.Bytes, attrs)
	a.items.Add(ctx, int64(st.Items), attrs)
	return nil
}

func (a *archiver) pruneLoop() {
	defer close(a.stopped)
	t := time.NewTicker(a.cfg.PruneInterval)
	defer t.Stop()
	for {
		a.pruneOnce()
		select {
		case <-a.stop:
			return
		case <-t.C:
		}
	}
}

func (a *archiver) pruneOnce() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-a.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	st, err := a.reader.Prune(ctx, time.Now().Add(-a.cfg.MaxAge))
	if st.Objects > 0 {
		a.pruned.Add(ctx, int64(st.Objects))
	}
	if err != nil && ctx.Err() == nil {
		a.logger.Warn("forensic archive prune failed; retried at the next interval", zap.Error(err))
	}
}
