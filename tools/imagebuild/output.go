package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// summary is what `build` reports about the image it wrote.
type summary struct {
	Digest       v1.Hash // the manifest: what a registry serves and a manifest pins
	ImageID      v1.Hash // the config: what `podman images` shows as the ID
	Compressed   int64   // manifest + config + layer blobs, as pushed
	Uncompressed int64   // the layer's tar, as unpacked on a node
}

// writeOutputs writes the image three ways into dir: an OCI image layout
// (oci/, what `push` sends, so the pushed digest is this one), a tarball
// that `podman load` and `docker load` read (image.tar, tagged tag), and
// the manifest digest (digest) for pinning.
func writeOutputs(dir string, img v1.Image, tag string) (summary, error) {
	var s summary
	ref, err := name.NewTag(tag)
	if err != nil {
		return s, fmt.Errorf("--tag %q: %w", tag, err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "oci")); err != nil {
		return s, err
	}
	p, err := layout.Write(filepath.Join(dir, "oci"), empty.Index)
	if err != nil {
		return s, fmt.Errorf("oci layout: %w", err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": ref.TagStr()})); err != nil {
		return s, fmt.Errorf("oci layout: %w", err)
	}
	if err := tarball.WriteToFile(filepath.Join(dir, "image.tar"), ref, img); err != nil {
		return s, fmt.Errorf("image.tar: %w", err)
	}
	if s.Digest, err = img.Digest(); err != nil {
		return s, err
	}
	if s.ImageID, err = img.ConfigName(); err != nil {
		return s, err
	}
	if err := os.WriteFile(filepath.Join(dir, "digest"), []byte(s.Digest.String()+"\n"), 0o644); err != nil {
		return s, err
	}
	return s, sizes(img, &s)
}

func sizes(img v1.Image, s *summary) error {
	m, err := img.Manifest()
	if err != nil {
		return err
	}
	raw, err := img.RawManifest()
	if err != nil {
		return err
	}
	s.Compressed = int64(len(raw)) + m.Config.Size
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	for _, l := range layers {
		n, err := l.Size()
		if err != nil {
			return err
		}
		s.Compressed += n
		rc, err := l.Uncompressed()
		if err != nil {
			return err
		}
		u, err := countBytes(rc)
		if err != nil {
			return err
		}
		s.Uncompressed += u
	}
	return nil
}
