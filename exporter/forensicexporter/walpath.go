package forensicexporter

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter/exporterhelper/xexporterhelper"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/sandwatch/sandwatch/internal/archive"
	"github.com/sandwatch/sandwatch/internal/wal"
)

// walPath is the exporter's ingest path when wal.directory is set: one
// log per signal (one disk bound for both), appended to on arrival, and a
// cutter per log writing blocks in the background.
type walPath struct {
	logs    map[archive.Kind]*wal.Log
	budget  *wal.Budget
	cutters sync.WaitGroup
}

func (a *archiver) openWAL() error {
	cfg := a.cfg.WAL
	w := &walPath{logs: map[archive.Kind]*wal.Log{}, budget: wal.NewBudget(cfg.MaxBytes)}
	for _, kind := range []archive.Kind{archive.KindSpans, archive.KindLogs} {
		l, rec, err := wal.Open(wal.Options{
			Dir: filepath.Join(cfg.Directory, string(kind)), Budget: w.budget,
			SegmentBytes: cfg.SegmentBytes, Sync: wal.Sync(cfg.Fsync), SyncInterval: cfg.FsyncInterval,
		})
		if err != nil {
			w.close()
			return fmt.Errorf("forensic: wal: %w", err)
		}
		w.logs[kind] = l
		if rec.Pending > 0 || rec.Cut > 0 {
			a.logger.Info("forensic WAL recovered; replaying what is not yet archived",
				zap.String("signal", string(kind)), zap.Int("segments", rec.Segments),
				zap.Int64("pending_bytes", rec.Pending), zap.Int64("cut_bytes", rec.Cut), zap.Int("damaged_segments", rec.Damaged))
		}
		if rec.Cut > 0 {
			a.walCut.Add(context.Background(), rec.Cut, a.attrsOf(kind))
		}
	}
	a.wal = w
	return nil
}

// startCutters runs one cutter per log until stop is closed.
func (a *archiver) startCutters(stop <-chan struct{}) {
	for kind, l := range a.wal.logs {
		c := &cutter{a: a, kind: kind, log: l, attrs: a.attrsOf(kind)}
		a.wal.cutters.Add(1)
		go func() {
			defer a.wal.cutters.Done()
			c.run(stop)
		}()
	}
}

func (w *walPath) close() error {
	w.cutters.Wait()
	var errs []error
	for _, l := range w.logs {
		errs = append(errs, l.Close())
	}
	return errors.Join(errs...)
}

func (a *archiver) attrsOf(kind archive.Kind) metric.MeasurementOption {
	if kind == archive.KindLogs {
		return a.attrLogs
	}
	return a.attrSpans
}

// appendWAL is the push when the WAL is on: the request, marshaled once on
// arrival, is appended and acknowledged once committed. The batch's
// header and its OTLP bytes go in as two parts: the OTLP is copied once,
// into the log's write buffer.
func (a *archiver) appendWAL(ctx context.Context, r xexporterhelper.Request) error {
	br, ok := r.(*batchRequest)
	if !ok {
		return consumererror.NewPermanent(fmt.Errorf("forensic: unexpected request %T", r))
	}
	b := br.b
	hdr, err := (&archive.Batch{Kind: b.Kind, Items: b.Items, Names: b.Names}).MarshalBinary()
	if err != nil {
		return consumererror.NewPermanent(err)
	}
	err = a.wal.logs[b.Kind].Append(hdr, b.Raw)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, wal.ErrFull):
		a.walRefused.Add(ctx, 1, a.attrsOf(b.Kind))
		return fmt.Errorf("forensic WAL at max_bytes (%d) while the store catches up; retry: %w", a.cfg.WAL.MaxBytes, err)
	case errors.Is(err, wal.ErrTooLarge):
		return consumererror.NewPermanent(fmt.Errorf("forensic: a batch of %d bytes exceeds wal.max_bytes: %w", len(b.Raw), err))
	default:
		return fmt.Errorf("forensic WAL: %w", err) // retryable
	}
}

// pushFunc is the exporter's push: into the WAL when it is on, else a
// write-through from the sending queue.
func (a *archiver) pushFunc() xexporterhelper.RequestConsumeFunc {
	if a.cfg.WAL.enabled() {
		return a.appendWAL
	}
	return a.push
}
