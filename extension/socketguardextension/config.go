package socketguardextension

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
)

// Config lists the unix sockets the collector's receivers listen on. A
// socket's directory is created (0700) when missing.
type Config struct {
	// Paths of the unix domain sockets to guard (the receivers' endpoints).
	Paths []string `mapstructure:"paths"`
	// Mode is the octal permission of each socket once the receivers are
	// up; default "0600" (owner only).
	Mode string `mapstructure:"mode"`
	// RemoveStale removes a socket file left behind by a collector that
	// was killed, so the receiver can bind again; default true. Only a
	// socket nobody answers on is removed, never a regular file.
	RemoveStale bool `mapstructure:"remove_stale"`
}

func createDefaultConfig() *Config {
	return &Config{Mode: "0600", RemoveStale: true}
}

// Validate checks the paths and the mode.
func (c *Config) Validate() error {
	var errs []error
	for i, p := range c.Paths {
		if p == "" {
			errs = append(errs, fmt.Errorf("paths[%d]: empty path", i))
		} else if !filepath.IsAbs(p) && !filepath.IsLocal(p) {
			errs = append(errs, fmt.Errorf("paths[%d]: %q must be absolute or below the working directory", i, p))
		}
	}
	if _, err := c.mode(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (c *Config) mode() (uint32, error) {
	m, err := strconv.ParseUint(c.Mode, 8, 32)
	if err != nil || m > 0o777 {
		return 0, fmt.Errorf("mode: %q is not an octal permission such as \"0600\"", c.Mode)
	}
	if m&0o600 != 0o600 {
		return 0, fmt.Errorf("mode: %q does not let the collector's own user read and write its socket; use at least 0600", c.Mode)
	}
	return uint32(m), nil
}
