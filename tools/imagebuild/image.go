package main

import (
	"bytes"
	"fmt"
	"io"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// meta is what the image says about itself.
type meta struct {
	version, revision, source string
	created                   time.Time
	arch                      string
}

// labels are the OCI pre-defined annotation keys
// (github.com/opencontainers/image-spec/blob/main/annotations.md), set both
// as config labels (what `podman inspect` and registries show) and as
// manifest annotations.
func (m meta) labels() map[string]string {
	return map[string]string{
		"org.opencontainers.image.title":       "sandwatch",
		"org.opencontainers.image.description": "OpenTelemetry Collector distribution for sandboxed agent extensions",
		"org.opencontainers.image.version":     m.version,
		"org.opencontainers.image.revision":    m.revision,
		"org.opencontainers.image.source":      m.source,
		"org.opencontainers.image.created":     m.created.UTC().Format(time.RFC3339),
	}
}

// containerEnv makes config/default.yaml, written for a workstation,
// right for a container: listeners on every interface of the container's
// network namespace (a container's loopback is reachable by nothing
// else), and all state under the /data volume. The Tempo API and the
// collector's own metrics stay on loopback, as on a workstation: opening
// them is a deliberate choice (set the variable).
var containerEnv = []string{
	"SANDWATCH_OTLP_GRPC_ENDPOINT=0.0.0.0:4317",
	"SANDWATCH_OTLP_HTTP_ENDPOINT=0.0.0.0:4318",
	"SANDWATCH_HEALTH_ENDPOINT=0.0.0.0:13133",
	"SANDWATCH_PROMETHEUS_ENDPOINT=0.0.0.0:9464",
	"SANDWATCH_DATA_DIR=" + dataDir,
}

// buildImage assembles a one-layer OCI image from the root filesystem.
// Relative paths of the default config (./data/...) resolve under /data
// because the working directory is /.
func buildImage(entries []entry, m meta) (v1.Image, error) {
	raw, err := layerTar(entries, m.created)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(raw)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{
		Layer:   layer,
		History: v1.History{Created: v1.Time{Time: m.created}, CreatedBy: "sandwatch tools/imagebuild", Comment: "static collector, CA bundle, default config, user 10001"},
	})
	if err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.OS = "linux"
	cf.Architecture = m.arch
	cf.Created = v1.Time{Time: m.created}
	cf.Config = v1.Config{
		User:       fmt.Sprintf("%d:%d", uid, gid),
		Entrypoint: []string{binaryPath},
		// Replace it to override the config: `run IMAGE --config=/path`.
		Cmd:          []string{"--config=" + configPath},
		WorkingDir:   "/",
		Env:          containerEnv,
		ExposedPorts: map[string]struct{}{"4317/tcp": {}, "4318/tcp": {}, "13133/tcp": {}, "9464/tcp": {}},
		Volumes:      map[string]struct{}{dataDir: {}},
		Labels:       m.labels(),
		// The collector drains its pipelines and syncs the WAL on SIGTERM.
		StopSignal: "SIGTERM",
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	return mutate.Annotations(img, m.labels()).(v1.Image), nil
}
