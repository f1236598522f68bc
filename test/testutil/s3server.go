package testutil

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
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
	Bucket string
	t      *testing.T
	bin    string
	dir    string
	port   int
	cmd    *exec.Cmd
	done   chan struct{}
}

func (s *S3Server) Endpoint() string { return fmt.Sprintf("http://127.0.0.1:%d", s.port) }

// StoreURL is the archive URL (credentials come from the environment).
func (s *S3Server) StoreURL() string {
	return fmt.Sprintf("s3://%s?endpoint=%s&use_path_style=true&region=us-east-1", s.Bucket, s.Endpoint())
}

// StartS3 starts versitygw (installed by `make deps` under
// SANDWATCH_TOOLS) with bucket, sets the AWS_* variables the collector and
// gocloud read, and stops it when the test ends.
func StartS3(t *testing.T, bucket string) *S3Server {
	t.Helper()
	tools := os.Getenv("SANDWATCH_TOOLS")
	if tools == "" {
		t.Skip("SANDWATCH_TOOLS is not set: run through `make test`")
	}
	bin := filepath.Join(tools, "versitygw-v1.8.0")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s: %v (make deps)", bin, err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", S3AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", S3SecretKey)
	t.Setenv("AWS_REGION", "us-east-1")
	s := &S3Server{Bucket: bucket, t: t, bin: bin, dir: t.TempDir(), port: FreePort(t)}
	s.Start()
	t.Cleanup(s.Stop)
	s.createBucket()
	return s
}

// xattrsWork reports whether dir's filesystem takes user xattrs, which
// versitygw's posix backend keeps metadata in; without them it runs with
// --nometa.
func xattrsWork(dir string) bool {
	f := filepath.Join(dir, ".xattr-probe")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		return false
	}
	defer os.Remove(f)
	return unix.Setxattr(f, "user.sandwatch", []byte("1"), 0) == nil
}

func (s *S3Server) Start() {
	s.t.Helper()
	args := []string{"--access", S3AccessKey, "--secret", S3SecretKey, "--port", fmt.Sprintf("127.0.0.1:%d", s.port), "--quiet", "posix"}
	if !xattrsWork(s.dir) {
		args = append(args, "--nometa")
	}
	args = append(args, s.dir)
	s.cmd = exec.Command(s.bin, args...)
	s.cmd.Stdout, s.cmd.Stderr = os.Stderr, os.Stderr
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.done = make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("versitygw did not listen on %d", s.port)
}

// Stop ends the server (SIGTERM, then SIGKILL).
func (s *S3Server) Stop() {
	if s.cmd == nil {
		return
	}
	select {
	case <-s.done:
	default:
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	}
	s.cmd = nil
}

func (s *S3Server) createBucket() {
	s.t.Helper()
	client := s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(s.Endpoint()),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(S3AccessKey, S3SecretKey, ""),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(s.Bucket)}); err != nil {
		s.t.Fatalf("create bucket: %v", err)
	}
}
