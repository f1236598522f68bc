package forensic

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sandwatch/sandwatch/internal/archive"
	"github.com/sandwatch/sandwatch/test/testutil"
)

// lockedS3 is an S3 store whose exporter settings ask for Object Lock.
type lockedS3 struct{ *s3Server }

func (s lockedS3) YAML() string {
	return fmt.Sprintf("store: s3://%s\n    s3: {endpoint: %q, region: us-east-1, use_path_style: true, object_lock: {mode: COMPLIANCE, days: 1}}", bucket, s.Endpoint())
}

// TestObjectLock: with s3.object_lock the collector's PUTs carry Object
// Lock retention; versitygw (a bucket with Object Lock enabled) records it
// on every block and catalog, and refuses to delete a locked block;
// lookup runs stay unlocked for compaction.
func TestObjectLock(t *testing.T) {
	s := &s3Server{testutil.NewS3(t, bucket)}
	if !testutil.XattrsWork(s.Dir) {
		t.Skip("versitygw keeps Object Lock retention in user xattrs, which this filesystem lacks")
	}
	s.Start()
	t.Cleanup(s.Stop)
	s.CreateBucket(true)

	p := newPorts(t)
	st := lockedS3{s}
	startCollector(t, collectorConfig(st, p, t.TempDir()), p)
	sendRounds(t, st, p, 1, 0, reader(t, st))

	ctx := context.Background()
	c := s.Client()
	listed, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	require.NoError(t, err)
	var block string
	locked, runs := 0, 0
	for _, o := range listed.Contents {
		key := aws.ToString(o.Key)
		ret, err := c.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: aws.String(bucket), Key: o.Key})
		_, _, isBlock := archive.ParseBlockKey(key)
		switch {
		case strings.HasPrefix(key, archive.LookupPrefix):
			runs++
			assert.True(t, err != nil || ret.Retention == nil || ret.Retention.Mode == "", "lookup run %s is locked", key)
		default:
			require.NoError(t, err, key)
			assert.Equal(t, types.ObjectLockRetentionModeCompliance, ret.Retention.Mode, key)
			until := aws.ToTime(ret.Retention.RetainUntilDate)
			assert.WithinDuration(t, time.Now().Add(24*time.Hour), until, time.Hour, key)
			locked++
			if isBlock {
				block = key
			}
		}
	}
	require.NotEmpty(t, block)
	require.Positive(t, runs)
	t.Logf("%d blocks and catalogs locked, %d lookup runs not", locked, runs)
	_, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(block)})
	require.Error(t, err, "a COMPLIANCE-locked block was deleted")
	t.Logf("delete of a locked block: %v", err)
}
