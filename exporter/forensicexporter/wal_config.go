package forensicexporter

import (
	"errors"
	"fmt"
	"time"

	"github.com/sandwatch/sandwatch/internal/wal"
)

// WALConfig: with a directory, the exporter makes data durable in a
// write-ahead log of its own instead of exporterhelper's sending queue:
// a batch is acknowledged once it is appended under the fsync policy, and
// blocks are cut from the log in the background. sending_queue and
// retry_on_failure are then not used.
type WALConfig struct {
	// Directory of the log's segments; empty disables the WAL.
	Directory string `mapstructure:"directory"`
	// MaxBytes bounds the log on disk (both signals together). At the
	// bound, appends are refused with a retryable error (back-pressure:
	// gRPC Unavailable, HTTP 503) until blocks are stored again.
	MaxBytes int64 `mapstructure:"max_bytes"`
	// SegmentBytes: a segment file is closed and a new one started past
	// this size; a segment is deleted once all of it is archived.
	SegmentBytes int64 `mapstructure:"segment_bytes"`
	// Fsync: always (fdatasync per group commit; survives power loss),
	// interval (write per group commit, fdatasync every fsync_interval;
	// survives a process crash, an OS crash may lose the last interval),
	// never (the OS writes back; survives a process crash).
	Fsync         string        `mapstructure:"fsync"`
	FsyncInterval time.Duration `mapstructure:"fsync_interval"`
	// BlockBytes: a block is cut once this much OTLP is read from the log
	// (a block holds at most twice this), or FlushInterval after its first
	// batch, so a typical trace lands in one block.
	BlockBytes    int64         `mapstructure:"block_bytes"`
	FlushInterval time.Duration `mapstructure:"flush_interval"`
}

func defaultWAL() WALConfig {
	return WALConfig{
		MaxBytes:      1 << 30,
		SegmentBytes:  16 << 20,
		Fsync:         string(wal.SyncInterval),
		FsyncInterval: time.Second,
		BlockBytes:    4 << 20,
		FlushInterval: 5 * time.Second,
	}
}

func (c WALConfig) enabled() bool { return c.Directory != "" }

// Validate names the field at fault.
func (c WALConfig) Validate() error {
	if !c.enabled() {
		return nil
	}
	var errs []error
	switch wal.Sync(c.Fsync) {
	case wal.SyncAlways, wal.SyncInterval, wal.SyncNever:
	default:
		errs = append(errs, fmt.Errorf("wal.fsync: %q is none of always, interval, never", c.Fsync))
	}
	if wal.Sync(c.Fsync) == wal.SyncInterval && c.FsyncInterval < time.Millisecond {
		errs = append(errs, fmt.Errorf("wal.fsync_interval: %s is below 1ms", c.FsyncInterval))
	}
	if c.SegmentBytes < 64<<10 {
		errs = append(errs, fmt.Errorf("wal.segment_bytes: %d is below 64 KiB", c.SegmentBytes))
	}
	if c.MaxBytes < 4*c.SegmentBytes {
		errs = append(errs, fmt.Errorf("wal.max_bytes: %d is below 4 x segment_bytes (%d): released data waits in the active segment until it rotates", c.MaxBytes, 4*c.SegmentBytes))
	}
	if c.BlockBytes < 64<<10 {
		errs = append(errs, fmt.Errorf("wal.block_bytes: %d is below 64 KiB", c.BlockBytes))
	}
	if c.FlushInterval < 10*time.Millisecond {
		errs = append(errs, fmt.Errorf("wal.flush_interval: %s is below 10ms", c.FlushInterval))
	}
	return errors.Join(errs...)
}
