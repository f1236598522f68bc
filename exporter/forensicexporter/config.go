package forensicexporter

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/sandwatch/sandwatch/internal/archive"
	"github.com/sandwatch/sandwatch/internal/sandboxevent"
)

// Config of the forensic exporter.
type Config struct {
	// Store is a gocloud.dev/blob URL: file:///abs/dir or file://./rel/dir,
	// s3://bucket?region=..., gs://bucket, azblob://container, mem://.
	Store string `mapstructure:"store"`
	// S3 settings for s3:// stores (override the URL's parameters).
	S3 archive.S3Options `mapstructure:"s3"`
	// Encoding: proto (OTLP protobuf, default) or json (OTLP JSON).
	Encoding string `mapstructure:"encoding"`
	// Compression: zstd (default), gzip, s2 (about half zstd's CPU per
	// write, 1.3x the stored bytes) or none.
	Compression string `mapstructure:"compression"`
	// Compaction keeps lookups by trace id cheap: see CompactionConfig.
	Compaction CompactionConfig `mapstructure:"compaction"`
	// MaxAge is the retention; 0 keeps everything.
	MaxAge time.Duration `mapstructure:"max_age"`
	// PruneInterval is how often objects older than max_age are deleted;
	// 0 disables pruning by the collector (use the store's lifecycle rules).
	PruneInterval time.Duration `mapstructure:"prune_interval"`
	// Integrity: signed, chained digests of every block and catalog
	// stored, checked by `sandwatchctl forensics verify`.
	Integrity archive.Integrity `mapstructure:"integrity"`
	// Encryption: client-side envelope encryption of every block page
	// and catalog (AES-256-GCM), keys from files or env variables.
	Encryption archive.Encryption `mapstructure:"encryption"`
	// EventModel names the extension of each trace in the index.
	EventModel sandboxevent.Config `mapstructure:"event_model"`

	// WAL, when it names a directory, replaces the sending queue (see WALConfig).
	WAL WALConfig `mapstructure:"wal"`

	TimeoutConfig exporterhelper.TimeoutConfig                             `mapstructure:",squash"`
	QueueConfig   configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`
	RetryConfig   configretry.BackOffConfig                                `mapstructure:"retry_on_failure"`
}

func (c *Config) format() archive.Format {
	return archive.Format{Encoding: archive.Encoding(c.Encoding), Compression: archive.Compression(c.Compression)}
}

// Validate checks the store URL, the format and the retention.
func (c *Config) Validate() error {
	var errs []error
	if c.Store == "" {
		errs = append(errs, errors.New("store: empty; set a URL such as file://./data/forensic or s3://bucket?region=us-east-1"))
	} else if _, _, err := archive.ResolveURL(c.Store, c.S3); err != nil {
		errs = append(errs, err)
	}
	if err := c.S3.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.format().Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Compaction.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.MaxAge < 0 {
		errs = append(errs, fmt.Errorf("max_age: %s is negative; use 0 to keep everything", c.MaxAge))
	}
	if c.PruneInterval < 0 {
		errs = append(errs, fmt.Errorf("prune_interval: %s is negative; use 0 to leave retention to lifecycle rules", c.PruneInterval))
	}
	if c.MaxAge > 0 && c.PruneInterval > 0 && c.PruneInterval < time.Second {
		errs = append(errs, fmt.Errorf("prune_interval: %s is below 1s", c.PruneInterval))
	}
	if err := c.Integrity.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Encryption.Validate(true); err != nil {
		errs = append(errs, err)
	}
	if c.S3.ObjectLock.Enabled() && !strings.HasPrefix(c.Store, "s3:") {
		errs = append(errs, errors.New("s3.object_lock: only for s3:// stores"))
	}
	if err := c.EventModel.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.WAL.Validate(); err != nil {
		errs = append(errs, err)
	}
	if q := c.QueueConfig.Get(); c.WAL.enabled() && q != nil && q.StorageID != nil {
		errs = append(errs, fmt.Errorf("sending_queue::storage: %s and wal::directory both make data durable; keep the WAL and drop the storage", q.StorageID))
	}
	if q := c.QueueConfig.Get(); q != nil && q.Batch.HasValue() && q.Batch.Get().Sizer != exporterhelper.RequestSizerTypeBytes {
		errs = append(errs, fmt.Errorf("sending_queue::batch::sizer: must be bytes (got %v): a write is cut into blocks by size", q.Batch.Get().Sizer))
	}
	return errors.Join(errs...)
}

// CompactionConfig: each write adds one lookup run; whenever Fanout runs of
// a level exist they are merged into one of the next level, so a lookup
// reads at most Fanout-1 runs per level.
type CompactionConfig struct {
	// Fanout is the number of runs of a level that are merged.
	Fanout int `mapstructure:"fanout"`
	// Interval is how often the collector compacts besides after every
	// Fanout writes of its own (which picks up runs written by other
	// collectors sharing the store); 0 compacts only after writes.
	Interval time.Duration `mapstructure:"interval"`
	// MaxMergeBytes bounds what one merge reads (and so how long it
	// runs); memory does not depend on it, merges stream.
	MaxMergeBytes int64 `mapstructure:"max_merge_bytes"`
}

// Validate names the field at fault.
func (c CompactionConfig) Validate() error {
	var errs []error
	if c.Fanout < 2 || c.Fanout > 64 {
		errs = append(errs, fmt.Errorf("compaction.fanout: %d is outside 2..64", c.Fanout))
	}
	if c.Interval < 0 || (c.Interval > 0 && c.Interval < time.Second) {
		errs = append(errs, fmt.Errorf("compaction.interval: %s is neither 0 (after writes only) nor at least 1s", c.Interval))
	}
	if c.MaxMergeBytes < 1<<20 {
		errs = append(errs, fmt.Errorf("compaction.max_merge_bytes: %d is below 1 MiB", c.MaxMergeBytes))
	}
	return errors.Join(errs...)
}
