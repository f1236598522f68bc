package forensic

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

	"github.com/sandwatch/sandwatch/test/testutil"
)

const (
	accessKey = "sandwatchtest"
	secretKey = "sandwatch-test-secret-key"
	bucket    = "forensic"
)

// s3Server is versitygw on its posix backend, SigV4 with a root key, on
// a loopback port; it can be stopped and restarted on the same port and
// directory.
type s3Server struct {
	t    *testing.T
	bin  string
	dir  string
	port int
	cmd  *exec.Cmd
	done chan struct{}
}

func (s *s3Server) Endpoint() string { return fmt.Sprintf("http://127.0.0.1:%d", s.port) }

// StoreURL is the archive URL (credentials come from the environment).
func (s *s3Server) StoreURL() string {
	return fmt.Sprintf("s3://%s?endpoint=%s&use_path_style=true&region=us-east-1", bucket, s.Endpoint())
}

func startS3(t *testing.T) *s3Server {
	t.Helper()
	tools := os.Getenv("SANDWATCH_TOOLS")
	if tools == "" {
		t.Skip("SANDWATCH_TOOLS is not set: run through `make test`")
	}
	bin := filepath.Join(tools, "versitygw-v1.8.0")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s: %v (make deps)", bin, err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", accessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secretKey)
	t.Setenv("AWS_REGION", "us-east-1")
	s := &s3Server{t: t, bin: bin, dir: t.TempDir(), port: testutil.FreePort(t)}
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

func (s *s3Server) Start() {
	s.t.Helper()
	args := []string{"--access", accessKey, "--secret", secretKey, "--port", fmt.Sprintf("127.0.0.1:%d", s.port), "--quiet", "posix"}
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
func (s *s3Server) Stop() {
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

func (s *s3Server) createBucket() {
	s.t.Helper()
	client := s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(s.Endpoint()),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		s.t.Fatalf("create bucket: %v", err)
	}
}
