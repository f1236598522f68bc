package baselineconnector

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sandwatch/sandwatch/internal/archive"
)

// SharedStoreConfig keeps profiles in an object store shared by the
// replicas of a gateway, one object per extension, so an extension that
// moves to another replica (scale-out, a lost replica) keeps its learned
// profile instead of learning afresh.
type SharedStoreConfig struct {
	// Store is a gocloud.dev/blob URL, the same forms as the forensic
	// exporter's store: file:///dir, s3://bucket?region=..., gs://, azblob://, mem://.
	Store string `mapstructure:"store"`
	// S3 settings for s3:// stores (override the URL's parameters).
	S3 archive.S3Options `mapstructure:"s3"`
	// Prefix of the profile objects (one per extension) in the store.
	Prefix string `mapstructure:"prefix"`
	// LoadTimeout bounds how long the spans of an extension this replica
	// holds no profile for wait for its stored profile before they are
	// judged anyway (with a fresh profile that learns).
	LoadTimeout time.Duration `mapstructure:"load_timeout"`
	// RefreshAfter: a profile not seen for this long is checked against
	// the store on its next span (it may have lived on another replica).
	RefreshAfter time.Duration `mapstructure:"refresh_after"`
	// RetryInterval between loads of an extension whose load failed or
	// timed out.
	RetryInterval time.Duration `mapstructure:"retry_interval"`
	// Timeout of one store request.
	Timeout time.Duration `mapstructure:"timeout"`
	// Loaders are the concurrent store reads; MaxPendingLoads the loads
	// queued beyond them; MaxHeldSpans the spans and log records held
	// while their profile loads. Past a bound, records are judged at once.
	Loaders         int `mapstructure:"loaders"`
	MaxPendingLoads int `mapstructure:"max_pending_loads"`
	MaxHeldSpans    int `mapstructure:"max_held_spans"`
	// Replica names the writer in each object (default: hostname/pid).
	Replica string `mapstructure:"replica"`
}

func defaultSharedStore() SharedStoreConfig {
	return SharedStoreConfig{Prefix: "baseline/profiles/", LoadTimeout: time.Second, RefreshAfter: 2 * time.Minute,
		RetryInterval: 10 * time.Second, Timeout: 5 * time.Second, Loaders: 8, MaxPendingLoads: 1000, MaxHeldSpans: 100000}
}

// withDefaults fills unset fields (a `shared_store:` block names the store
// and only what it changes).
func (c SharedStoreConfig) withDefaults() SharedStoreConfig {
	d := defaultSharedStore()
	if c.Prefix == "" {
		c.Prefix = d.Prefix
	}
	set := func(v *time.Duration, def time.Duration) {
		if *v == 0 {
			*v = def
		}
	}
	set(&c.LoadTimeout, d.LoadTimeout)
	set(&c.RefreshAfter, d.RefreshAfter)
	set(&c.RetryInterval, d.RetryInterval)
	set(&c.Timeout, d.Timeout)
	for _, f := range []struct {
		v   *int
		def int
	}{{&c.Loaders, d.Loaders}, {&c.MaxPendingLoads, d.MaxPendingLoads}, {&c.MaxHeldSpans, d.MaxHeldSpans}} {
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	return c
}

// Validate names the field at fault.
func (c *SharedStoreConfig) Validate() error {
	var errs []error
	if c.Store == "" {
		errs = append(errs, errors.New("shared_store.store: required, a blob URL such as s3://bucket?region=us-east-1 or file:///var/lib/sandwatch/shared"))
	} else if _, _, err := archive.ResolveURL(c.Store, c.S3); err != nil {
		errs = append(errs, fmt.Errorf("shared_store.%w", err))
	}
	if err := c.S3.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("shared_store.%w", err))
	}
	if strings.HasPrefix(c.Prefix, "/") {
		errs = append(errs, fmt.Errorf("shared_store.prefix: %q must be relative (such as baseline/profiles/)", c.Prefix))
	}
	bad := func(name string, ok bool, fix string) {
		if !ok {
			errs = append(errs, fmt.Errorf("shared_store.%s: %s", name, fix))
		}
	}
	bad("load_timeout", c.LoadTimeout >= 0 && c.LoadTimeout <= 30*time.Second, "must be between 0 (default 1s) and 30s: spans of a moved extension wait for it")
	bad("refresh_after", c.RefreshAfter >= 0, "must be a positive duration (default 2m)")
	bad("retry_interval", c.RetryInterval >= 0, "must be a positive duration (default 10s)")
	bad("timeout", c.Timeout >= 0, "must be a positive duration (default 5s)")
	bad("loaders", c.Loaders >= 0 && c.Loaders <= 256, "must be between 1 and 256 (default 8)")
	bad("max_pending_loads", c.MaxPendingLoads >= 0, "must be at least 1 (default 1000)")
	bad("max_held_spans", c.MaxHeldSpans >= 0, "must be at least 1 (default 100000)")
	return errors.Join(errs...)
}

func (c *Config) validateSharedStore() error {
	if c.SharedStore == nil {
		return nil
	}
	if c.Storage != nil {
		// A replica's local copy goes stale while its extensions live on
		// other replicas; loading it at start would judge with old profiles.
		return errors.New("storage and shared_store: set one; shared_store replaces storage on gateway replicas")
	}
	return c.SharedStore.Validate()
}
