package forensic

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/sandwatch/sandwatch/test/testutil"
)

// gcsServer is fake-gcs-server (from the Go module proxy) on its
// filesystem backend; gocloud's gs:// reaches it via STORAGE_EMULATOR_HOST.
type gcsServer struct{ *testutil.Process }

func (s *gcsServer) StoreURL() string { return "gs://" + bucket }
func (s *gcsServer) YAML() string     { return "store: gs://" + bucket }

func startGCS(t *testing.T) *gcsServer {
	t.Helper()
	s := &gcsServer{testutil.NewProcess(t, "fake-gcs-server", testutil.Tool(t, "fake-gcs-server-v1.56.1"))}
	s.Args = func() []string {
		return []string{"-scheme", "http", "-host", "127.0.0.1", "-port", fmt.Sprint(s.Port),
			"-public-host", fmt.Sprintf("127.0.0.1:%d", s.Port), "-external-url", s.Endpoint(),
			"-backend", "filesystem", "-filesystem-root", filepath.Join(s.Dir, "data"), "-log-level", "error"}
	}
	t.Setenv("STORAGE_EMULATOR_HOST", fmt.Sprintf("127.0.0.1:%d", s.Port))
	s.Start()
	t.Cleanup(s.Stop)
	body := strings.NewReader(`{"name":"` + bucket + `"}`)
	resp, err := http.Post(s.Endpoint()+"/storage/v1/b?project=sandwatch", "application/json", body)
	if err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("create bucket: %s", resp.Status)
	}
	return s
}

// Azurite's well-known development account.
const (
	azAccount = "devstoreaccount1"
	azKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// azuriteServer is Azurite's blob service (from npm), shared-key auth.
type azuriteServer struct{ *testutil.Process }

func (s *azuriteServer) StoreURL() string {
	return fmt.Sprintf("azblob://%s?protocol=http&domain=127.0.0.1:%d", bucket, s.Port)
}
func (s *azuriteServer) YAML() string { return "store: " + s.StoreURL() }

func startAzurite(t *testing.T) *azuriteServer {
	t.Helper()
	s := &azuriteServer{testutil.NewProcess(t, "azurite", testutil.Tool(t, "azurite-3.37.0/node_modules/.bin/azurite-blob"))}
	s.Args = func() []string {
		return []string{"--blobHost", "127.0.0.1", "--blobPort", fmt.Sprint(s.Port), "--location", s.Dir,
			"--skipApiVersionCheck", "--silent"}
	}
	t.Setenv("AZURE_STORAGE_ACCOUNT", azAccount)
	t.Setenv("AZURE_STORAGE_KEY", azKey)
	s.Start()
	t.Cleanup(s.Stop)
	cred, err := azblob.NewSharedKeyCredential(azAccount, azKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := azblob.NewClientWithSharedKeyCredential(fmt.Sprintf("http://127.0.0.1:%d/%s", s.Port, azAccount), cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := c.CreateContainer(ctx, bucket, nil); err != nil {
		t.Fatalf("create container: %v", err)
	}
	return s
}
