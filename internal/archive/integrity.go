package archive

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"gocloud.dev/blob"

	"github.com/sandwatch/sandwatch/internal/archive/digest"
)

// Integrity configures a writer's signed digests (see package digest).
type Integrity struct {
	// SigningKeyFile is an ed25519 private key, PEM PKCS #8 (sandwatchctl
	// forensics keygen, or openssl genpkey -algorithm ed25519).
	SigningKeyFile string `mapstructure:"signing_key_file"`
	// WriterID names this writer's chain; unique per collector sharing
	// a store. Default: the host name.
	WriterID string `mapstructure:"writer_id"`
	// Interval between digests; default 1h.
	Interval time.Duration `mapstructure:"interval"`
}

// Enabled reports whether digests are configured.
func (c Integrity) Enabled() bool { return c.SigningKeyFile != "" }

// Validate names the field at fault.
func (c Integrity) Validate() error {
	var errs []error
	if !c.Enabled() {
		if c.WriterID != "" || c.Interval != 0 {
			errs = append(errs, errors.New("integrity.signing_key_file: needed for signed digests (writer_id and interval are set)"))
		}
		return errors.Join(errs...)
	}
	if c.WriterID != "" {
		if err := digest.ValidWriter(c.WriterID); err != nil {
			errs = append(errs, fmt.Errorf("integrity.writer_id: %w", err))
		}
	}
	if c.Interval != 0 && c.Interval < time.Second {
		errs = append(errs, fmt.Errorf("integrity.interval: %s is below 1s", c.Interval))
	}
	return errors.Join(errs...)
}

// Start loads the signing key and continues the writer's chain in b
// (nil, nil when digests are not configured).
// retention is the writer's max_age, recorded in each digest.
func (c Integrity) Start(ctx context.Context, b *blob.Bucket, lock ObjectLock, retention time.Duration, onError func(error)) (*Digester, error) {
	if !c.Enabled() {
		return nil, nil
	}
	key, err := LoadSigningKey(c.SigningKeyFile)
	if err != nil {
		return nil, fmt.Errorf("integrity.signing_key_file: %w", err)
	}
	id := c.WriterID
	if id == "" {
		host, _ := os.Hostname()
		id = digest.WriterFrom(host)
	}
	return StartDigester(ctx, b, DigestOptions{Writer: id, Key: key, Interval: c.Interval, Lock: lock, Retention: retention, OnError: onError})
}
