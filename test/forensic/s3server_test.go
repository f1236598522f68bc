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

// store is an object store the archive is tested on: an emulator process
// on a loopback port that can be stopped and restarted on the same port
// and directory, keeping its data.
type store interface {
	// StoreURL is the archive URL (credentials come from the environment).
	StoreURL() string
	// YAML is the store settings of the exporter and of forensic_query.
	YAML() string
	Start()
	Stop()
}

// server is a store's process.
type server struct {
	t    *testing.T
	name string
	bin  string
	args func() []string
	dir  string
	port int
	cmd  *exec.Cmd
	done chan struct{}
}

// tool returns the path of a test dependency that `make deps` installs.
func tool(t *testing.T, name string) string {
	t.Helper()
	tools := os.Getenv("SANDWATCH_TOOLS")
	if tools == "" {
		t.Skip("SANDWATCH_TOOLS is not set: run through `make test`")
	}
	bin := filepath.Join(tools, name)
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s: %v (make deps)", bin, err)
	}
	return bin
}

func newServer(t *testing.T, name, bin string) *server {
	return &server{t: t, name: name, bin: bin, dir: t.TempDir(), port: testutil.FreePort(t)}
}

func (s *server) Endpoint() string { return fmt.Sprintf("http://127.0.0.1:%d", s.port) }

func (s *server) Start() {
	s.t.Helper()
	s.cmd = exec.Command(s.bin, s.args()...)
	s.cmd.Stdout, s.cmd.Stderr = os.Stderr, os.Stderr
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.done = make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("%s did not listen on %d", s.name, s.port)
}

// Stop ends the server (SIGTERM, then SIGKILL).
func (s *server) Stop() {
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

// s3Server is versitygw on its posix backend, SigV4 with a root key.
type s3Server struct{ *server }

// StoreURL is the archive URL (credentials come from the environment).
func (s *s3Server) StoreURL() string {
	return fmt.Sprintf("s3://%s?endpoint=%s&use_path_style=true&region=us-east-1", bucket, s.Endpoint())
}

func (s *s3Server) YAML() string {
	return fmt.Sprintf("store: s3://%s\n    s3: {endpoint: %q, region: us-east-1, use_path_style: true}", bucket, s.Endpoint())
}

func startS3(t *testing.T) *s3Server {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", accessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secretKey)
	t.Setenv("AWS_REGION", "us-east-1")
	s := &s3Server{newServer(t, "versitygw", tool(t, "versitygw-v1.8.0"))}
	s.args = func() []string {
		args := []string{"--access", accessKey, "--secret", secretKey, "--port", fmt.Sprintf("127.0.0.1:%d", s.port), "--quiet", "posix"}
		if !xattrsWork(s.dir) {
			args = append(args, "--nometa")
		}
		return append(args, s.dir)
	}
	s.Start()
	t.Cleanup(s.Stop)
	s.createBucket(false)
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

func (s *s3Server) client() *s3.Client {
	return s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(s.Endpoint()),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
	})
}

func (s *s3Server) createBucket(objectLock bool) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	in := &s3.CreateBucketInput{Bucket: aws.String(bucket)}
	if objectLock {
		in.ObjectLockEnabledForBucket = aws.Bool(true)
	}
	if _, err := s.client().CreateBucket(ctx, in); err != nil {
		s.t.Fatalf("create bucket: %v", err)
	}
}
