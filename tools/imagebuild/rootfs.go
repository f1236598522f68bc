package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"time"
)

// The user the collector runs as: a fixed, unprivileged uid/gid that the
// Kubernetes manifests also name (runAsUser/fsGroup 10001), so volumes
// mounted with fsGroup are writable and runAsNonRoot holds.
const (
	uid      = 10001
	gid      = 10001
	userName = "sandwatch"
)

// Paths inside the image.
const (
	binaryPath = "/sandwatch"
	configPath = "/etc/sandwatch/config.yaml"
	caPath     = "/etc/ssl/certs/ca-certificates.crt"
	dataDir    = "/data"
)

// entry is one file or directory of the root filesystem.
type entry struct {
	path     string
	mode     int64
	uid, gid int
	dir      bool
	data     []byte
}

// rootfs lists the image's files: the static binary, the default config,
// the CA bundle, the user database and the directories the collector
// writes to. Everything else (a shell, a libc) is left out on purpose: a
// static binary needs none of it, and what is absent cannot be abused.
func rootfs(binary, config, caBundle []byte) []entry {
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\n%s:x:%d:%d:sandwatch:%s:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n", userName, uid, gid, dataDir)
	group := fmt.Sprintf("root:x:0:\n%s:x:%d:\nnobody:x:65534:\n", userName, gid)
	return []entry{
		{path: "/etc", mode: 0o755, dir: true},
		{path: "/etc/passwd", mode: 0o644, data: []byte(passwd)},
		{path: "/etc/group", mode: 0o644, data: []byte(group)},
		// Go's resolver reads it to order /etc/hosts before DNS, as glibc would.
		{path: "/etc/nsswitch.conf", mode: 0o644, data: []byte("hosts: files dns\n")},
		{path: "/etc/ssl", mode: 0o755, dir: true},
		{path: "/etc/ssl/certs", mode: 0o755, dir: true},
		{path: caPath, mode: 0o644, data: caBundle},
		{path: "/etc/sandwatch", mode: 0o755, dir: true},
		{path: configPath, mode: 0o644, data: config},
		{path: binaryPath, mode: 0o755, data: binary},
		// State, WAL, the file:// archive and the unix socket, owned by the
		// collector's user so a fresh volume mounted here works unchanged.
		{path: dataDir, mode: 0o750, uid: uid, gid: gid, dir: true},
		{path: "/tmp", mode: 0o1777, dir: true},
	}
}

// writeTar writes the entries as one tar layer, sorted and with a fixed
// modification time, so the same inputs give the same layer digest.
func writeTar(w io.Writer, entries []entry, mtime time.Time) error {
	sorted := append([]entry(nil), entries...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].path < sorted[j].path })
	tw := tar.NewWriter(w)
	for _, e := range sorted {
		h := &tar.Header{
			Name:    path.Clean(e.path)[1:],
			Mode:    e.mode,
			Uid:     e.uid,
			Gid:     e.gid,
			ModTime: mtime,
			Format:  tar.FormatPAX,
		}
		if e.dir {
			h.Typeflag = tar.TypeDir
			h.Name += "/"
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("layer: %s: %w", e.path, err)
		}
		if !e.dir {
			if _, err := tw.Write(e.data); err != nil {
				return fmt.Errorf("layer: %s: %w", e.path, err)
			}
		}
	}
	return tw.Close()
}

// layerTar is writeTar into memory: the layer is read twice (digest, then
// blob), and the binary dominates its size anyway.
func layerTar(entries []entry, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	if err := writeTar(&buf, entries, mtime); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// readInputs reads the three files the image is made of.
func readInputs(binaryFile, configFile, caFile string) (binary, config, ca []byte, err error) {
	if binary, err = os.ReadFile(binaryFile); err != nil {
		return nil, nil, nil, fmt.Errorf("--binary: %w", err)
	}
	if err = checkStatic(binaryFile); err != nil {
		return nil, nil, nil, err
	}
	if config, err = os.ReadFile(configFile); err != nil {
		return nil, nil, nil, fmt.Errorf("--config: %w", err)
	}
	if ca, err = os.ReadFile(caFile); err != nil {
		return nil, nil, nil, fmt.Errorf("--ca-bundle: %w (Debian's ca-certificates package provides it)", err)
	}
	if !bytes.Contains(ca, []byte("BEGIN CERTIFICATE")) {
		return nil, nil, nil, fmt.Errorf("--ca-bundle %s holds no PEM certificate", caFile)
	}
	return binary, config, ca, nil
}
