// Command imagebuild builds the sandwatch OCI image without a container
// engine, with go-containerregistry: one layer holding the static
// collector, Debian's CA bundle, the default config and a user database
// with an unprivileged user, and the config (entrypoint, user, /data
// volume, ports, OCI labels) a runtime needs. It is a module of its own so
// the collector never carries go-containerregistry.
//
//	imagebuild build --binary bin/sandwatch --config config/default.yaml --out bin/image ...
//	imagebuild push --layout bin/image/oci ghcr.io/you/sandwatch:0.1.0
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "imagebuild:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: imagebuild build|push [flags]")
	}
	switch args[0] {
	case "build":
		return runBuild(args[1:], stdout)
	case "push":
		return runPush(args[1:], stdout)
	default:
		return fmt.Errorf("unknown command %q: want build or push", args[0])
	}
}

func runBuild(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	binary := fs.String("binary", "bin/sandwatch", "the static collector binary")
	config := fs.String("config", "config/default.yaml", "the config embedded as /etc/sandwatch/config.yaml")
	ca := fs.String("ca-bundle", "/etc/ssl/certs/ca-certificates.crt", "PEM CA bundle (Debian's ca-certificates)")
	out := fs.String("out", "bin/image", "output directory: oci/ (layout), image.tar (podman/docker load), digest")
	tag := fs.String("tag", "localhost/sandwatch:dev", "the tag image.tar carries")
	version := fs.String("version", "dev", "org.opencontainers.image.version")
	revision := fs.String("revision", "", "org.opencontainers.image.revision (the git commit)")
	source := fs.String("source", "https://github.com/sandwatch/sandwatch", "org.opencontainers.image.source")
	epoch := fs.String("source-date-epoch", os.Getenv("SOURCE_DATE_EPOCH"), "creation time, Unix seconds (the commit's time keeps the digest reproducible)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *revision == "" {
		return fmt.Errorf("--revision is required (the git commit the binary was built from)")
	}
	created := time.Unix(0, 0).UTC()
	if *epoch != "" {
		sec, err := strconv.ParseInt(*epoch, 10, 64)
		if err != nil {
			return fmt.Errorf("--source-date-epoch %q: not Unix seconds", *epoch)
		}
		created = time.Unix(sec, 0).UTC()
	}
	bin, cfg, bundle, err := readInputs(*binary, *config, *ca)
	if err != nil {
		return err
	}
	arch, err := goarch(*binary)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	img, err := buildImage(rootfs(bin, cfg, bundle), meta{version: *version, revision: *revision, source: *source, created: created, arch: arch})
	if err != nil {
		return err
	}
	s, err := writeOutputs(*out, img, *tag)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "image %s\n  digest   %s\n  image id %s\n  size     %.1f MiB compressed (pushed), %.1f MiB unpacked\n  wrote    %s/oci, %s/image.tar, %s/digest\n",
		*tag, s.Digest, s.ImageID, mib(s.Compressed), mib(s.Uncompressed), *out, *out, *out)
	return nil
}

func runPush(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("push", flag.ContinueOnError)
	dir := fs.String("layout", "bin/image/oci", "the OCI layout `build` wrote")
	insecure := fs.Bool("insecure", false, "plain HTTP (a registry on loopback)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("push: want one reference, e.g. ghcr.io/you/sandwatch:0.1.0")
	}
	img, err := loadLayout(*dir)
	if err != nil {
		return err
	}
	d, err := push(img, fs.Arg(0), *insecure)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, d.String())
	return nil
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

func countBytes(rc io.ReadCloser) (int64, error) {
	defer rc.Close()
	return io.Copy(io.Discard, rc)
}
