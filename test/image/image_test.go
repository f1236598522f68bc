// Package image runs the image `make image` builds (bin/image) under a
// real OCI runtime, Debian's podman with runc: it loads as the image the
// layout describes, runs as its unprivileged user with the embedded
// config, takes OTLP, answers health, archives every acknowledged span to
// a mounted /data volume and exits cleanly on SIGTERM; a mounted config
// or a --config argument replaces the embedded one.
package image

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sandwatch/sandwatch/internal/archive"
	"github.com/sandwatch/sandwatch/internal/simulate"
	"github.com/sandwatch/sandwatch/test/testutil"
)

// The collector's user in the image (tools/imagebuild).
const imageUID = 10001

// podman runs podman with the runtime flags these machines need
// (DESIGN.md: crun refuses the hybrid cgroups; runc with cgroupfs works).
func podman(args ...string) (string, error) {
	full := append([]string{"--runtime", "runc", "--cgroup-manager=cgroupfs"}, args...)
	out, err := exec.Command("podman", full...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// runFlags are the `podman run` flags every container here needs: the
// default ulimits exceed the hard limits (no CAP_SYS_RESOURCE), and
// loopback-only machines use the host's network.
var runFlags = []string{"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "--network", "host"}

// built is what `make image` wrote.
type built struct {
	dir, tag, configDigest string
	pushed                 int64 // manifest, config and layer blobs
}

func imageDir(t *testing.T) built {
	t.Helper()
	dir := os.Getenv("SANDWATCH_IMAGE")
	if dir == "" {
		t.Skip("SANDWATCH_IMAGE is not set: run through `make test` (`make image` builds bin/image)")
	}
	if _, err := exec.LookPath("podman"); err != nil {
		t.Fatal("podman is not installed: `make podman` installs it (Debian's podman and runc)")
	}
	var index struct {
		Manifests []struct {
			Digest      string            `json:"digest"`
			Size        int64             `json:"size"`
			Annotations map[string]string `json:"annotations"`
		} `json:"manifests"`
	}
	readJSON(t, filepath.Join(dir, "oci", "index.json"), &index)
	require.Len(t, index.Manifests, 1, "the layout holds one image")
	m := index.Manifests[0]
	var manifest struct {
		Config struct {
			Digest string `json:"digest"`
			Size   int64  `json:"size"`
		} `json:"config"`
		Layers []struct {
			Size int64 `json:"size"`
		} `json:"layers"`
	}
	readJSON(t, blob(dir, m.Digest), &manifest)
	b := built{dir: dir, tag: "localhost/sandwatch:" + m.Annotations["org.opencontainers.image.ref.name"], configDigest: manifest.Config.Digest,
		pushed: m.Size + manifest.Config.Size}
	for _, l := range manifest.Layers {
		b.pushed += l.Size
	}
	digest, err := os.ReadFile(filepath.Join(dir, "digest"))
	require.NoError(t, err)
	require.Equal(t, m.Digest, strings.TrimSpace(string(digest)), "bin/image/digest is not the layout's manifest")
	return b
}

func blob(dir, digest string) string {
	algo, hex, _ := strings.Cut(digest, ":")
	return filepath.Join(dir, "oci", "blobs", algo, hex)
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, v), path)
}

// load puts image.tar into podman's store, once for the package, and
// checks that what podman holds is the image of the layout (its ID is the
// config digest), so the digest the chart pins is the image tested here.
func load(t *testing.T, b built) {
	t.Helper()
	loadOnce.Do(func() {
		out, err := podman("load", "-i", filepath.Join(b.dir, "image.tar"))
		if err != nil {
			loadErr = fmt.Errorf("podman load: %v: %s", err, out)
			return
		}
		loadedTag = b.tag
	})
	require.NoError(t, loadErr)
	id, err := podman("image", "inspect", "--format", "{{.Id}}", b.tag)
	require.NoError(t, err, id)
	require.Equal(t, strings.TrimPrefix(b.configDigest, "sha256:"), id, "podman's image is not the layout's")
}

var (
	loadOnce  sync.Once
	loadErr   error
	loadedTag string
)

// TestMain leaves no image behind in podman's store (each build has its
// own tag).
func TestMain(m *testing.M) {
	code := m.Run()
	if loadedTag != "" {
		_, _ = podman("rmi", "-f", loadedTag)
	}
	os.Exit(code)
}

func TestImageUnderPodman(t *testing.T) {
	b := imageDir(t)
	load(t, b)

	var inspect []struct {
		Size   int64
		Config struct {
			User    string
			Labels  map[string]string
			Volumes map[string]struct{}
		}
	}
	out, err := podman("image", "inspect", b.tag)
	require.NoError(t, err, out)
	require.NoError(t, json.Unmarshal([]byte(out), &inspect))
	cfg := inspect[0].Config
	require.Equal(t, fmt.Sprintf("%d:%d", imageUID, imageUID), cfg.User)
	require.Contains(t, cfg.Volumes, "/data")
	for _, k := range []string{"version", "revision", "source", "created"} {
		require.NotEmpty(t, cfg.Labels["org.opencontainers.image."+k], "label org.opencontainers.image.%s", k)
	}
	t.Logf("image %s: %.1f MiB pushed (compressed blobs), %.1f MiB unpacked", b.tag, float64(b.pushed)/(1<<20), float64(inspect[0].Size)/(1<<20))

	// The /data volume: a host directory owned by the image's user, as a
	// fresh PersistentVolume with fsGroup would be.
	data := t.TempDir()
	require.NoError(t, os.Chown(data, imageUID, imageUID))
	p := map[string]int{}
	for _, k := range []string{"otlp", "http", "health", "prom", "query", "telemetry"} {
		p[k] = testutil.FreePort(t)
	}
	name := fmt.Sprintf("sandwatch-image-test-%d", os.Getpid())
	args := append([]string{"run", "-d", "--name", name}, runFlags...)
	args = append(args, "-v", data+":/data",
		// The host's network is shared with other tests: loopback, free ports.
		"-e", fmt.Sprintf("SANDWATCH_OTLP_GRPC_ENDPOINT=127.0.0.1:%d", p["otlp"]),
		"-e", fmt.Sprintf("SANDWATCH_OTLP_HTTP_ENDPOINT=127.0.0.1:%d", p["http"]),
		"-e", fmt.Sprintf("SANDWATCH_HEALTH_ENDPOINT=127.0.0.1:%d", p["health"]),
		"-e", fmt.Sprintf("SANDWATCH_PROMETHEUS_ENDPOINT=127.0.0.1:%d", p["prom"]),
		"-e", fmt.Sprintf("SANDWATCH_QUERY_ENDPOINT=127.0.0.1:%d", p["query"]),
		"-e", fmt.Sprintf("SANDWATCH_TELEMETRY_PORT=%d", p["telemetry"]),
		b.tag)
	out, err = podman(args...)
	require.NoError(t, err, out)
	t.Cleanup(func() { _, _ = podman("rm", "-f", "-t", "0", name) })
	logs := func() string { l, _ := podman("logs", name); return l }

	healthy := false
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline) && !healthy; time.Sleep(300 * time.Millisecond) {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", p["health"]))
		if err == nil {
			healthy = resp.StatusCode == http.StatusOK
			resp.Body.Close()
		}
	}
	require.True(t, healthy, "the container never answered health:\n%s", logs())

	stop := make(chan struct{})
	acked := testutil.Load(t, fmt.Sprintf("127.0.0.1:%d", p["otlp"]), stop, simulate.Options{Seed: 23, Extensions: 20})
	time.Sleep(3 * time.Second)
	close(stop)
	traces, spans := acked.Count()
	require.Positive(t, spans, "nothing acknowledged:\n%s", logs())
	t.Logf("acknowledged %d traces, %d spans", traces, spans)

	bucket, _, err := archive.Open(context.Background(), "file://"+filepath.Join(data, "forensic"), archive.S3Options{})
	require.NoError(t, err)
	defer bucket.Close()
	testutil.WaitAllArchived(t, acked, &archive.Reader{Bucket: bucket}, 60*time.Second)

	// The archive and the WAL were written by the image's user, on the volume.
	for _, d := range []string{"forensic", "wal"} {
		fi, err := os.Stat(filepath.Join(data, d))
		require.NoError(t, err, "%s on the volume", d)
		require.Equal(t, uint32(imageUID), fi.Sys().(*syscall.Stat_t).Uid, "%s is not owned by the image's user", d)
	}

	// SIGTERM (the image's stop signal): a clean exit well within the grace.
	start := time.Now()
	out, err = podman("stop", "-t", "30", name)
	require.NoError(t, err, out)
	took := time.Since(start)
	code, err := podman("inspect", "--format", "{{.State.ExitCode}}", name)
	require.NoError(t, err, code)
	require.Equal(t, "0", code, "exit code after SIGTERM:\n%s", logs())
	require.Less(t, took, 25*time.Second, "stopping took %v: SIGTERM was not enough", took)
	require.Contains(t, logs(), "Shutdown complete", "the collector did not shut down gracefully")
	t.Logf("stopped by SIGTERM in %v, exit code 0", took.Round(time.Millisecond))
}

// The embedded config is valid; a config mounted over it, or one named by
// --config, replaces it (each broken in its own way, so the error names
// which file was read).
func TestImageConfigOverride(t *testing.T) {
	b := imageDir(t)
	load(t, b)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "mounted.yaml"), []byte("receivers:\n  mounted_nope: {}\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "named.yaml"), []byte("receivers:\n  named_nope: {}\n"), 0o644))

	validate := func(extra []string, cmd ...string) (string, error) {
		args := append(append(append([]string{"run", "--rm"}, runFlags...), extra...), b.tag)
		return podman(append(args, cmd...)...)
	}
	out, err := validate(nil, "validate", "--config=/etc/sandwatch/config.yaml")
	require.NoError(t, err, "the embedded config does not validate:\n%s", out)

	out, err = validate([]string{"-v", filepath.Join(dir, "mounted.yaml") + ":/etc/sandwatch/config.yaml:ro"}, "validate", "--config=/etc/sandwatch/config.yaml")
	require.Error(t, err)
	require.Contains(t, out, "mounted_nope", "a config mounted over the embedded one is not what runs")

	out, err = validate([]string{"-v", dir + ":/conf:ro"}, "validate", "--config=/conf/named.yaml")
	require.Error(t, err)
	require.Contains(t, out, "named_nope", "--config does not replace the embedded config")
}
