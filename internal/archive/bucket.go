package archive

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/azureblob" // azblob://
	_ "gocloud.dev/blob/fileblob"  // file://
	_ "gocloud.dev/blob/gcsblob"   // gs://
	_ "gocloud.dev/blob/memblob"   // mem://
	_ "gocloud.dev/blob/s3blob"    // s3://
)

// S3Options are the S3 settings spelled out as configuration rather than
// URL parameters; set ones override the URL's.
type S3Options struct {
	Endpoint     string `mapstructure:"endpoint"`       // e.g. http://127.0.0.1:7070 for an S3-compatible server
	Region       string `mapstructure:"region"`         // e.g. us-east-1
	UsePathStyle bool   `mapstructure:"use_path_style"` // bucket in the path, as most S3-compatible servers need
	DisableHTTPS bool   `mapstructure:"disable_https"`
	SSEType      string `mapstructure:"sse_type"`   // AES256, aws:kms or aws:kms:dsse
	KMSKeyID     string `mapstructure:"kms_key_id"` // with sse_type aws:kms
	// ObjectLock, when set, sends S3 Object Lock retention with every
	// block, catalog and digest (the bucket must have Object Lock on).
	ObjectLock ObjectLock `mapstructure:"object_lock"`
}

// Validate names the field at fault.
func (o S3Options) Validate() error {
	switch o.SSEType {
	case "", "AES256", "aws:kms", "aws:kms:dsse":
	default:
		return fmt.Errorf("s3.sse_type: %q is not one of AES256, aws:kms, aws:kms:dsse", o.SSEType)
	}
	if o.KMSKeyID != "" && !strings.HasPrefix(o.SSEType, "aws:kms") {
		return fmt.Errorf("s3.kms_key_id needs s3.sse_type aws:kms or aws:kms:dsse")
	}
	if err := o.ObjectLock.Validate(); err != nil {
		return err
	}
	if o.Endpoint != "" {
		if u, err := url.Parse(o.Endpoint); err != nil || u.Host == "" {
			return fmt.Errorf("s3.endpoint: %q is not a URL such as http://127.0.0.1:9000", o.Endpoint)
		}
	}
	return nil
}

// ResolveURL turns a store URL into the one gocloud opens: S3 options go
// into the query; a file:// store gets an absolute directory (a relative
// one is taken from the working directory: file://./data/forensic), its
// temporary files next to the objects (so publishing is a same-filesystem
// rename) and no metadata sidecar files. It returns the local directory
// for file:// stores.
func ResolveURL(store string, s3 S3Options) (string, string, error) {
	u, err := url.Parse(store)
	if err != nil {
		return "", "", fmt.Errorf("store: %q is not a URL: %w", store, err)
	}
	q := u.Query()
	local := ""
	switch u.Scheme {
	case "file":
		p := u.Path
		if u.Host == "." {
			p = strings.TrimPrefix(p, "/")
		} else if u.Host != "" {
			return "", "", fmt.Errorf("store: %q: write file:///absolute/path or file://./relative/path", store)
		}
		if p == "" {
			return "", "", fmt.Errorf("store: %q has no directory", store)
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return "", "", fmt.Errorf("store: %w", err)
		}
		local = abs
		u.Host = ""
		u.Path = filepath.ToSlash(abs)
		if !q.Has("no_tmp_dir") {
			q.Set("no_tmp_dir", "true")
		}
		if !q.Has("metadata") {
			q.Set("metadata", "skip")
		}
	case "s3":
		set := func(k, v string) {
			if v != "" {
				q.Set(k, v)
			}
		}
		set("endpoint", s3.Endpoint)
		set("region", s3.Region)
		set("ssetype", s3.SSEType)
		set("kmskeyid", s3.KMSKeyID)
		if s3.UsePathStyle {
			q.Set("use_path_style", strconv.FormatBool(true))
		}
		if s3.DisableHTTPS {
			q.Set("disable_https", strconv.FormatBool(true))
		}
	case "mem", "gs", "azblob":
	default:
		return "", "", fmt.Errorf("store: scheme %q is not one of file, s3, gs, azblob, mem", u.Scheme)
	}
	u.RawQuery = q.Encode()
	return u.String(), local, nil
}

// Open opens a store URL (see ResolveURL); file:// directories are created.
func Open(ctx context.Context, store string, s3 S3Options) (*blob.Bucket, string, error) {
	resolved, local, err := ResolveURL(store, s3)
	if err != nil {
		return nil, "", err
	}
	if local != "" {
		if err := os.MkdirAll(local, 0o750); err != nil {
			return nil, "", fmt.Errorf("store: creating %s: %w", local, err)
		}
	}
	b, err := blob.OpenBucket(ctx, resolved)
	if err != nil {
		return nil, "", fmt.Errorf("store: opening %s: %w", redact(resolved), err)
	}
	return b, local, nil
}

// redact drops the query, which may carry key paths, from error messages.
func redact(s string) string {
	if i := strings.IndexByte(s, '?'); i >= 0 {
		return s[:i]
	}
	return s
}
