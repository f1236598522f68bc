package archive

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	tmtypes "github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager/types"
	"gocloud.dev/blob"
)

// ObjectLock asks an S3 store to keep each written object immutable for
// Days (S3 Object Lock retention; the bucket must have Object Lock
// enabled). GOVERNANCE lets principals with s3:BypassGovernanceRetention
// delete early; COMPLIANCE lets nobody, the root account included.
type ObjectLock struct {
	Mode string `mapstructure:"mode"` // GOVERNANCE or COMPLIANCE
	Days int    `mapstructure:"days"`
}

// Enabled reports whether a lock is configured.
func (l ObjectLock) Enabled() bool { return l.Mode != "" || l.Days != 0 }

// Validate names the field at fault.
func (l ObjectLock) Validate() error {
	if !l.Enabled() {
		return nil
	}
	if l.Mode != "GOVERNANCE" && l.Mode != "COMPLIANCE" {
		return fmt.Errorf("s3.object_lock.mode: %q is not one of GOVERNANCE, COMPLIANCE", l.Mode)
	}
	if l.Days < 1 {
		return fmt.Errorf("s3.object_lock.days: %d; set at least 1 (and no more than max_age, or prune cannot delete)", l.Days)
	}
	return nil
}

// putObject writes one object whole: gocloud's writers publish it only on
// a successful Close (a rename for file://, a single PUT for S3), so a
// reader never sees a partial object. With lock set (S3 stores), the PUT
// carries Object Lock retention headers, and a checksum, which S3
// requires on such PUTs.
func putObject(ctx context.Context, b *blob.Bucket, key string, data []byte, contentType string, lock ObjectLock, now time.Time) error {
	// No Content-Encoding header on purpose: some stores and clients
	// decompress "gzip" objects transparently, and the key's suffix
	// already says how the bytes are compressed.
	opts := &blob.WriterOptions{ContentType: contentType, DisableContentTypeDetection: true}
	if lock.Enabled() {
		until := now.Add(time.Duration(lock.Days) * 24 * time.Hour).UTC()
		opts.BeforeWrite = func(as func(any) bool) error {
			var in *transfermanager.UploadObjectInput
			if !as(&in) {
				return fmt.Errorf("s3.object_lock: the store is not S3")
			}
			in.ObjectLockMode = tmtypes.ObjectLockMode(lock.Mode)
			in.ObjectLockRetainUntilDate = &until
			in.ChecksumAlgorithm = tmtypes.ChecksumAlgorithmCrc32
			return nil
		}
	}
	if !lock.Enabled() && localStore(b) {
		return writeWithoutMD5(ctx, b, key, data, opts)
	}
	return b.WriteAll(ctx, key, data, opts)
}

// localStore: a file:// bucket (fileblob is the driver whose bucket is
// an os.FileInfo, its directory's).
func localStore(b *blob.Bucket) bool {
	var fi os.FileInfo
	return b.As(&fi)
}

// writeWithoutMD5 is WriteAll without its Content-MD5: WriteAll hashes
// the data and its writer hashes it again to check the sum, which on
// file:// protects nothing (the file is written by this process and
// renamed into place; with metadata=skip the sum is not even kept) and
// cost about 6% of the archive's CPU. Stores that receive the sum (S3,
// GCS, Azure) keep WriteAll.
func writeWithoutMD5(ctx context.Context, b *blob.Bucket, key string, data []byte, opts *blob.WriterOptions) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := b.NewWriter(ctx, key, opts)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		cancel() // without a sum to miss, only this keeps Close from publishing a part
		_ = w.Close()
		return err
	}
	return w.Close()
}
