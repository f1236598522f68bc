package identityprocessor

import (
	"errors"
	"fmt"
	"time"

	"github.com/sandwatch/sandwatch/internal/sandboxevent"
	"github.com/sandwatch/sandwatch/processor/identityprocessor/internal/binding"
)

// Modes of the processor.
const (
	// ModeCheck flags every record whose sender's identity does not cover
	// the extension or host it claims (tier 2, or a one-tier gateway).
	ModeCheck = "check"
	// ModeStamp writes the sender's identity on every resource, replacing
	// whatever the sender wrote there, and judges nothing (tier 1).
	ModeStamp = "stamp"
)

// Config of the identity processor.
type Config struct {
	// Mode is check (the default) or stamp.
	Mode string `mapstructure:"mode"`
	// Bindings are the identities inline; BindingsFile is a YAML file with
	// `identities:` (the same entries), re-read every ReloadInterval and
	// swapped in when it changed and is valid. Set exactly one.
	Bindings       []binding.Entry `mapstructure:"bindings"`
	BindingsFile   string          `mapstructure:"bindings_file"`
	ReloadInterval time.Duration   `mapstructure:"reload_interval"`
	// TrustedForwarders (check mode) are the certificates whose stamp is
	// believed: tier 1's own client certificate.
	TrustedForwarders binding.Forwarders `mapstructure:"trusted_forwarders"`
	// TokenMetadataKey is the request metadata key holding the bearer
	// token (the receiver needs include_metadata: true).
	TokenMetadataKey string `mapstructure:"token_metadata_key"`
	// EventModel says where records keep their extension id, as for the
	// connectors (keep it the same as theirs).
	EventModel sandboxevent.Config `mapstructure:"event_model"`
}

func createDefaultConfig() *Config {
	return &Config{Mode: ModeCheck, ReloadInterval: 10 * time.Second, TokenMetadataKey: "authorization"}
}

// Validate checks the mode, the bindings and the forwarders; errors name
// the field.
func (c *Config) Validate() error {
	var errs []error
	if c.Mode != ModeCheck && c.Mode != ModeStamp {
		errs = append(errs, fmt.Errorf("mode: %q is not check or stamp (check on tier 2, stamp on tier 1)", c.Mode))
	}
	switch {
	case len(c.Bindings) == 0 && c.BindingsFile == "":
		errs = append(errs, errors.New("bindings: none; set bindings (inline identities) or bindings_file (a reloadable file)"))
	case len(c.Bindings) > 0 && c.BindingsFile != "":
		errs = append(errs, errors.New("bindings_file: set either bindings or bindings_file, not both"))
	case len(c.Bindings) > 0:
		if err := binding.Validate("bindings", c.Bindings); err != nil {
			errs = append(errs, err)
		}
	}
	if c.ReloadInterval < 0 {
		errs = append(errs, fmt.Errorf("reload_interval: %s is negative (0 never reloads; default 10s)", c.ReloadInterval))
	}
	if c.Mode == ModeStamp && !c.TrustedForwarders.Empty() {
		errs = append(errs, errors.New("trusted_forwarders: only in check mode; tier 1 (stamp) replaces every stamp it receives"))
	}
	for _, v := range append(append([]string(nil), c.TrustedForwarders.CertCommonNames...), c.TrustedForwarders.CertSANs...) {
		if v == "" {
			errs = append(errs, errors.New("trusted_forwarders: empty common name or SAN"))
		}
	}
	if c.TokenMetadataKey == "" {
		errs = append(errs, errors.New("token_metadata_key: empty (default authorization)"))
	}
	if err := c.EventModel.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
