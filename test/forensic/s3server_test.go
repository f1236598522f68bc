package forensic

import (
	"fmt"

	"testing"

	"github.com/sandwatch/sandwatch/test/testutil"
)

const bucket = "forensic"

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

// s3Server is the shared versitygw (testutil.S3Server) as a store.
type s3Server struct{ *testutil.S3Server }

func (s *s3Server) YAML() string {
	return fmt.Sprintf("store: s3://%s\n    s3: {endpoint: %q, region: us-east-1, use_path_style: true}", bucket, s.Endpoint())
}

func startS3(t *testing.T) *s3Server {
	t.Helper()
	return &s3Server{testutil.StartS3(t, bucket)}
}
