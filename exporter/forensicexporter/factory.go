// Package forensicexporter archives full-fidelity spans and logs in object
// storage keyed by trace id (see internal/archive for the layout), through
// exporterhelper's sending queue (persistent on file_storage) and retry. The
// queue carries archive batches, marshaled once on arrival (request.go).
package forensicexporter

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exporterhelper/xexporterhelper"

	"github.com/sandwatch/sandwatch/exporter/forensicexporter/internal/metadata"
	"github.com/sandwatch/sandwatch/internal/archive"
)

// NewFactory returns the forensic exporter factory.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(metadata.Type, createDefaultConfig,
		exporter.WithTraces(createTraces, metadata.TracesStability),
		exporter.WithLogs(createLogs, metadata.LogsStability))
}

// defaultQueue buffers up to 5 s of data (or 4 MiB, whichever first) into
// one write, so a typical trace lands as one object, and bounds what waits
// in the queue to 256 MiB. The queue acknowledges a request once it is
// queued: only with `storage:` (a persistent queue) does an acknowledged
// span survive a crash; the default config sets it.
func defaultQueue() configoptional.Optional[exporterhelper.QueueBatchConfig] {
	q := exporterhelper.NewDefaultQueueConfig()
	_ = q.Sizer.UnmarshalText([]byte("bytes"))
	q.QueueSize = 256 << 20
	q.NumConsumers = 4
	b := exporterhelper.NewDefaultBatchConfig()
	_ = b.Sizer.UnmarshalText([]byte("bytes"))
	b.FlushTimeout = 5 * time.Second
	b.MinSize = 4 << 20
	b.MaxSize = 8 << 20 // one write stays well inside the 30 s timeout on a slow store
	q.Batch = configoptional.Some(b)
	return configoptional.Some(q)
}

func createDefaultConfig() component.Config {
	retry := configretry.NewDefaultBackOffConfig()
	// An object store down for minutes must not drop data: keep retrying
	// for 30 minutes before the queue gives a batch up.
	retry.MaxElapsedTime = 30 * time.Minute
	timeout := exporterhelper.NewDefaultTimeoutConfig()
	timeout.Timeout = 30 * time.Second
	return &Config{
		Store:         "file://./data/forensic",
		Encoding:      "proto",
		Compression:   "zstd",
		Compaction:    CompactionConfig{Fanout: 8, Interval: time.Minute, MaxMergeBytes: 8 << 30},
		MaxAge:        30 * 24 * time.Hour,
		PruneInterval: time.Hour,
		TimeoutConfig: timeout,
		QueueConfig:   defaultQueue(),
		WAL:           defaultWAL(),
		RetryConfig:   retry,
	}
}

// One archiver per component id serves both signals: one bucket, one
// prune loop.
var (
	sharedMu sync.Mutex
	shared   = map[component.ID]*archiver{}
)

func getArchiver(set exporter.Settings, cfg *Config) (*archiver, error) {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if a, ok := shared[set.ID]; ok {
		return a, nil
	}
	a, err := newArchiver(set, cfg, func() {
		sharedMu.Lock()
		delete(shared, set.ID)
		sharedMu.Unlock()
	})
	if err != nil {
		return nil, err
	}
	shared[set.ID] = a
	return a, nil
}

func options(cfg *Config, a *archiver, kind archive.Kind) []exporterhelper.Option {
	if cfg.WAL.enabled() {
		// The WAL is the queue and the cutter retries: a push returns once
		// the batch is in the log.
		return []exporterhelper.Option{
			exporterhelper.WithStart(a.start),
			exporterhelper.WithShutdown(a.shutdown),
			exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
			exporterhelper.WithTimeout(cfg.TimeoutConfig),
			exporterhelper.WithRetry(configretry.BackOffConfig{Enabled: false}),
		} // and no WithQueueBatch: no queue
	}
	return []exporterhelper.Option{
		exporterhelper.WithStart(a.start),
		exporterhelper.WithShutdown(a.shutdown),
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
		exporterhelper.WithTimeout(cfg.TimeoutConfig),
		exporterhelper.WithRetry(cfg.RetryConfig),
		xexporterhelper.WithQueueBatch(cfg.QueueConfig, queueSettings(kind, a.writer.Extensions)),
	}
}

func createTraces(ctx context.Context, set exporter.Settings, c component.Config) (exporter.Traces, error) {
	cfg := c.(*Config)
	a, err := getArchiver(set, cfg)
	if err != nil {
		return nil, err
	}
	return xexporterhelper.NewTracesRequest(ctx, set, a.tracesRequest, a.pushFunc(), options(cfg, a, archive.KindSpans)...)
}

func createLogs(ctx context.Context, set exporter.Settings, c component.Config) (exporter.Logs, error) {
	cfg := c.(*Config)
	a, err := getArchiver(set, cfg)
	if err != nil {
		return nil, err
	}
	return xexporterhelper.NewLogsRequest(ctx, set, a.logsRequest, a.pushFunc(), options(cfg, a, archive.KindLogs)...)
}
