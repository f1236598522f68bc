package forensicqueryextension

import (
	"errors"
	"fmt"
	"net"

	"go.opentelemetry.io/collector/config/confighttp"

	"github.com/sandwatch/sandwatch/internal/archive"
)

// Config of the forensic_query extension: an HTTP server (endpoint, tls,
// auth, cors... as any collector HTTP server) over an archive store.
type Config struct {
	confighttp.ServerConfig `mapstructure:",squash"`
	// Store is the archive's URL, the same as the forensic exporter's.
	Store string `mapstructure:"store"`
	// S3 settings for s3:// stores.
	S3 archive.S3Options `mapstructure:"s3"`
	// Encryption: the keys of an encrypted archive (active_key unused).
	Encryption archive.Encryption `mapstructure:"encryption"`
	// Search bounds /api/search and the tag endpoints.
	Search SearchConfig `mapstructure:"search"`
}

// DefaultEndpoint is Tempo's HTTP port, on loopback only.
const DefaultEndpoint = "127.0.0.1:3200"

func createDefaultConfig() *Config {
	sc := confighttp.NewDefaultServerConfig()
	sc.NetAddr.Endpoint = DefaultEndpoint
	return &Config{ServerConfig: sc, Store: "file://./data/forensic", Search: defaultSearchConfig()}
}

// Validate checks the endpoint and the store.
func (c *Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.NetAddr.Endpoint); err != nil {
		errs = append(errs, fmt.Errorf("endpoint: %q is not host:port (default %s): %w", c.NetAddr.Endpoint, DefaultEndpoint, err))
	}
	if c.Store == "" {
		errs = append(errs, errors.New("store: empty; use the forensic exporter's store URL, e.g. file://./data/forensic"))
	} else if _, _, err := archive.ResolveURL(c.Store, c.S3); err != nil {
		errs = append(errs, err)
	}
	if err := c.S3.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Encryption.Validate(false); err != nil {
		errs = append(errs, err)
	}
	if err := c.Search.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
