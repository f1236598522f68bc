package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// staticBinary is a static Go binary that ships with every toolchain.
func staticBinary(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "bin", "gofmt")
}

func testMeta() meta {
	return meta{version: "1.2.3", revision: "abc123", source: "https://example.com/sandwatch", created: time.Unix(1700000000, 0).UTC(), arch: "amd64"}
}

func build(t *testing.T, m meta) (v1.Image, []byte) {
	t.Helper()
	bin, cfg, ca, err := readInputs(staticBinary(t), "testdata/config.yaml", "testdata/ca.pem")
	if err != nil {
		t.Fatal(err)
	}
	img, err := buildImage(rootfs(bin, cfg, ca), m)
	if err != nil {
		t.Fatal(err)
	}
	return img, bin
}

// files reads the single layer back: path -> header and content.
func files(t *testing.T, img v1.Image) (map[string]*tar.Header, map[string][]byte) {
	t.Helper()
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers: %d, %v", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	hdrs, data := map[string]*tar.Header{}, map[string][]byte{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		p := "/" + strings.TrimSuffix(h.Name, "/")
		hdrs[p] = h
		b, _ := io.ReadAll(tr)
		data[p] = b
	}
	return hdrs, data
}

func TestImageContents(t *testing.T) {
	img, bin := build(t, testMeta())
	hdrs, data := files(t, img)
	if !bytes.Equal(data[binaryPath], bin) || hdrs[binaryPath].Mode != 0o755 {
		t.Errorf("%s: not the binary, or mode %o", binaryPath, hdrs[binaryPath].Mode)
	}
	cfg, _ := os.ReadFile("testdata/config.yaml")
	if !bytes.Equal(data[configPath], cfg) {
		t.Errorf("%s is not the given config", configPath)
	}
	ca, _ := os.ReadFile("testdata/ca.pem")
	if !bytes.Equal(data[caPath], ca) {
		t.Errorf("%s is not the given CA bundle", caPath)
	}
	if !strings.Contains(string(data["/etc/passwd"]), "sandwatch:x:10001:10001:") || !strings.Contains(string(data["/etc/group"]), "sandwatch:x:10001:") {
		t.Errorf("no user 10001 in /etc/passwd and /etc/group:\n%s%s", data["/etc/passwd"], data["/etc/group"])
	}
	d := hdrs[dataDir]
	if d == nil || d.Typeflag != tar.TypeDir || d.Uid != uid || d.Gid != gid {
		t.Errorf("%s: want a directory owned by %d:%d, got %+v", dataDir, uid, gid, d)
	}
	if h := hdrs["/tmp"]; h == nil || h.Mode != 0o1777 {
		t.Errorf("/tmp: want mode 1777, got %+v", h)
	}
	for p, h := range hdrs {
		if !h.ModTime.Equal(testMeta().created) {
			t.Errorf("%s: mtime %v, want the creation time", p, h.ModTime)
		}
		if p != dataDir && (h.Uid != 0 || h.Gid != 0) {
			t.Errorf("%s: owned by %d:%d; only %s belongs to the collector's user", p, h.Uid, h.Gid, dataDir)
		}
	}
	if len(hdrs) != 12 {
		t.Errorf("the layer holds %d entries, want the 12 rootfs lists (nothing else)", len(hdrs))
	}
}

func TestImageConfig(t *testing.T) {
	img, _ := build(t, testMeta())
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if c.User != "10001:10001" || strings.Join(c.Entrypoint, " ") != binaryPath || strings.Join(c.Cmd, " ") != "--config="+configPath {
		t.Errorf("user/entrypoint/cmd: %q %q %q", c.User, c.Entrypoint, c.Cmd)
	}
	if _, ok := c.Volumes[dataDir]; !ok || len(c.Volumes) != 1 {
		t.Errorf("volumes: %v, want only %s", c.Volumes, dataDir)
	}
	if cf.OS != "linux" || cf.Architecture != "amd64" || !cf.Created.Equal(testMeta().created) {
		t.Errorf("platform/created: %s/%s %v", cf.OS, cf.Architecture, cf.Created)
	}
	want := map[string]string{
		"org.opencontainers.image.version":  "1.2.3",
		"org.opencontainers.image.revision": "abc123",
		"org.opencontainers.image.source":   "https://example.com/sandwatch",
		"org.opencontainers.image.created":  "2023-11-14T22:13:20Z",
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range want {
		if c.Labels[k] != v || m.Annotations[k] != v {
			t.Errorf("%s: label %q, annotation %q, want %q", k, c.Labels[k], m.Annotations[k], v)
		}
	}
	if m.MediaType != types.OCIManifestSchema1 || m.Config.MediaType != types.OCIConfigJSON || m.Layers[0].MediaType != types.OCILayer {
		t.Errorf("media types: %s %s %s, want OCI", m.MediaType, m.Config.MediaType, m.Layers[0].MediaType)
	}
	env := strings.Join(c.Env, "\n")
	for _, e := range []string{"SANDWATCH_OTLP_GRPC_ENDPOINT=0.0.0.0:4317", "SANDWATCH_HEALTH_ENDPOINT=0.0.0.0:13133", "SANDWATCH_DATA_DIR=/data"} {
		if !strings.Contains(env, e) {
			t.Errorf("env lacks %s:\n%s", e, env)
		}
	}
}

// The same inputs give the same digest (the pin in the chart's values
// means something); a different revision gives another.
func TestDigestIsReproducible(t *testing.T) {
	a, _ := build(t, testMeta())
	b, _ := build(t, testMeta())
	m := testMeta()
	m.revision = "def456"
	c, _ := build(t, m)
	da, _ := a.Digest()
	db, _ := b.Digest()
	dc, _ := c.Digest()
	if da != db {
		t.Errorf("two builds of the same inputs: %s and %s", da, db)
	}
	if da == dc {
		t.Errorf("another revision kept the digest %s", da)
	}
}

// build then push to a registry (go-containerregistry's, in process): the
// registry serves the digest `build` wrote, and the tarball podman loads
// carries the same config (image ID).
func TestBuildWritesAndPushKeepsTheDigest(t *testing.T) {
	out := t.TempDir()
	var stdout bytes.Buffer
	err := run([]string{"build", "--binary", staticBinary(t), "--config", "testdata/config.yaml", "--ca-bundle", "testdata/ca.pem",
		"--out", out, "--tag", "localhost/sandwatch:1.2.3", "--version", "1.2.3", "--revision", "abc", "--source-date-epoch", "1700000000"}, &stdout)
	if err != nil {
		t.Fatal(err)
	}
	digest, err := os.ReadFile(filepath.Join(out, "digest"))
	if err != nil {
		t.Fatal(err)
	}
	want := strings.TrimSpace(string(digest))
	if !strings.Contains(stdout.String(), want) {
		t.Errorf("build did not report the digest %s:\n%s", want, stdout.String())
	}
	fromTar, err := tarball.ImageFromPath(filepath.Join(out, "image.tar"), nil)
	if err != nil {
		t.Fatal(err)
	}
	layoutImg, err := loadLayout(filepath.Join(out, "oci"))
	if err != nil {
		t.Fatal(err)
	}
	id1, _ := fromTar.ConfigName()
	id2, _ := layoutImg.ConfigName()
	if id1 != id2 {
		t.Errorf("image.tar config %s, layout config %s", id1, id2)
	}

	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer reg.Close()
	ref := strings.TrimPrefix(reg.URL, "http://") + "/sandwatch/sandwatch:1.2.3"
	stdout.Reset()
	if err := run([]string{"push", "--layout", filepath.Join(out, "oci"), "--insecure", ref}, &stdout); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(stdout.String()); !strings.HasSuffix(got, "@"+want) {
		t.Errorf("push printed %q, want the reference @%s", got, want)
	}
	tag, _ := name.NewTag(ref, name.Insecure)
	desc, err := remote.Head(tag)
	if err != nil {
		t.Fatal(err)
	}
	if desc.Digest.String() != want {
		t.Errorf("the registry serves %s, build wrote %s", desc.Digest, want)
	}
}

func TestBadInputsAreRefused(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"build", "--binary", "/bin/ls", "--revision", "x"}, "dynamically linked"},
		{[]string{"build", "--binary", "testdata/config.yaml", "--revision", "x"}, "not an ELF executable"},
		{[]string{"build", "--binary", staticBinary(t)}, "--revision is required"},
		{[]string{"build", "--binary", staticBinary(t), "--revision", "x", "--config", "testdata/config.yaml", "--ca-bundle", "testdata/config.yaml"}, "holds no PEM certificate"},
		{[]string{"build", "--binary", staticBinary(t), "--revision", "x", "--source-date-epoch", "yesterday"}, "not Unix seconds"},
		{[]string{"push", "--layout", t.TempDir(), "r/x:1"}, "run `make image` first"},
		{[]string{"tag"}, `unknown command "tag"`},
	}
	for _, c := range cases {
		err := run(c.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one containing %q", c.args, err, c.want)
		}
	}
}
