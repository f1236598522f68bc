package testutil

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sys/unix"
)

// Credentials of the test S3 server (set in the test's environment by StartS3).
const (
	S3AccessKey = "sandwatchtest"
	S3SecretKey = "sandwatch-test-secret-key"
)

// S3Server is versitygw on its posix backend, SigV4 with a root key, on
// a loopback port, with one bucket; it can be stopped and restarted on the
// same port and directory.
type S3Server struct {
	*Process
	Bucket string
}

// StoreURL is the archive URL (credentials come from the environment).
func (s *S3Server) StoreURL() string {
	return fmt.Sprintf("s3://%s?endpoint=%s&use_path_style=true&region=us-east-1", s.Bucket, s.Endpoint())
}

// NewS3 prepares versitygw (installed by `make deps` under
// SANDWATCH_TOOLS) for bucket and sets the AWS_* variables the collector
// and gocloud read; Start it, then CreateBucket. Without user xattrs on
// the data directory it runs with --nometa.
func NewS3(t *testing.T, bucket string) *S3Server {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", S3AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", S3SecretKey)
	t.Setenv("AWS_REGION", "us-east-1")
	s := &S3Server{Process: NewProcess(t, "versitygw", Tool(t, "versitygw-v1.8.0")), Bucket: bucket}
	s.Args = func() []string {
		args := []string{"--access", S3AccessKey, "--secret", S3SecretKey, "--port", fmt.Sprintf("127.0.0.1:%d", s.Port), "--quiet", "posix"}
		if !XattrsWork(s.Dir) {
			args = append(args, "--nometa")
		}
		return append(args, s.Dir)
	}
	return s
}

// StartS3 starts versitygw with bucket and stops it when the test ends.
func StartS3(t *testing.T, bucket string) *S3Server {
	t.Helper()
	s := NewS3(t, bucket)
	s.Start()
	t.Cleanup(s.Stop)
	s.CreateBucket(false)
	return s
}

// XattrsWork reports whether dir's filesystem takes user xattrs, which
// versitygw's posix backend keeps metadata (and Object Lock retention) in.
func XattrsWork(dir string) bool {
	f := filepath.Join(dir, ".xattr-probe")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		return false
	}
	defer os.Remove(f)
	return unix.Setxattr(f, "user.sandwatch", []byte("1"), 0) == nil
}

// Client is an S3 client of the server with the root key.
func (s *S3Server) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(s.Endpoint()),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(S3AccessKey, S3SecretKey, ""),
	})
}

// CreateBucket creates the server's bucket, with Object Lock if asked.
func (s *S3Server) CreateBucket(objectLock bool) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	in := &s3.CreateBucketInput{Bucket: aws.String(s.Bucket)}
	if objectLock {
		in.ObjectLockEnabledForBucket = aws.Bool(true)
	}
	if _, err := s.Client().CreateBucket(ctx, in); err != nil {
		s.t.Fatalf("create bucket: %v", err)
	}
}
