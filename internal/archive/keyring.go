package archive

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/sandwatch/sandwatch/internal/archive/sealed"
)

// KeySource is one key-encryption key: 256 bits (64 hex digits or
// base64) read from a file or an environment variable.
type KeySource struct {
	ID   string `mapstructure:"id"`
	File string `mapstructure:"file"`
	Env  string `mapstructure:"env"`
}

// Encryption configures client-side envelope encryption (see package
// sealed). ActiveKey seals new objects; every listed key opens old ones,
// so rotating is: add a key, make it active, keep the old one listed
// until nothing sealed with it is retained.
type Encryption struct {
	ActiveKey string      `mapstructure:"active_key"`
	Keys      []KeySource `mapstructure:"keys"`
}

// Enabled reports whether any key is configured.
func (e Encryption) Enabled() bool { return len(e.Keys) > 0 || e.ActiveKey != "" }

// Validate names the field at fault; forWriting also needs an active key.
func (e Encryption) Validate(forWriting bool) error {
	if !e.Enabled() {
		return nil
	}
	var errs []error
	seen := map[string]bool{}
	for i, k := range e.Keys {
		if err := sealed.ValidKeyID(k.ID); err != nil {
			errs = append(errs, fmt.Errorf("encryption.keys[%d].id: %w", i, err))
		}
		if seen[k.ID] {
			errs = append(errs, fmt.Errorf("encryption.keys[%d].id: %q is listed twice", i, k.ID))
		}
		seen[k.ID] = true
		if (k.File == "") == (k.Env == "") {
			errs = append(errs, fmt.Errorf("encryption.keys[%d]: set exactly one of file, env", i))
		}
	}
	if forWriting && !seen[e.ActiveKey] {
		errs = append(errs, fmt.Errorf("encryption.active_key: %q is not one of encryption.keys", e.ActiveKey))
	}
	return errors.Join(errs...)
}

// Ring loads the keys (nil when none is configured).
func (e Encryption) Ring() (*sealed.Ring, error) {
	if !e.Enabled() {
		return nil, nil
	}
	r := &sealed.Ring{Active: e.ActiveKey}
	for i, k := range e.Keys {
		var raw []byte
		var err error
		if k.File != "" {
			raw, err = os.ReadFile(k.File)
		} else if v, ok := os.LookupEnv(k.Env); ok {
			raw = []byte(v)
		} else {
			err = fmt.Errorf("environment variable %s is not set", k.Env)
		}
		if err == nil {
			raw, err = sealed.ParseKey(raw)
		}
		if err == nil {
			err = r.Add(k.ID, raw)
		}
		if err != nil {
			return nil, fmt.Errorf("encryption.keys[%d] (%s): %w", i, k.ID, err)
		}
	}
	return r, nil
}

// ParseKeySource reads "id=file:/path" or "id=env:VAR" (the CLI's --key).
func ParseKeySource(s string) (KeySource, error) {
	id, src, ok := strings.Cut(s, "=")
	kind, val, ok2 := strings.Cut(src, ":")
	if !ok || !ok2 || val == "" {
		return KeySource{}, fmt.Errorf("--key %q: write ID=file:/path or ID=env:VARIABLE", s)
	}
	switch kind {
	case "file":
		return KeySource{ID: id, File: val}, nil
	case "env":
		return KeySource{ID: id, Env: val}, nil
	}
	return KeySource{}, fmt.Errorf("--key %q: the source must be file:PATH or env:NAME", s)
}
