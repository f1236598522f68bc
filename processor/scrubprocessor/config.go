package scrubprocessor

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/sandwatch/sandwatch/processor/scrubprocessor/internal/pii"
	"github.com/sandwatch/sandwatch/processor/scrubprocessor/internal/secrets"
)

// Config of the scrub processor. The zero-settings config (`scrub:`)
// applies every built-in secret rule to every carrier and no pii
// treatment.
type Config struct {
	Secrets SecretsConfig `mapstructure:"secrets"`
	PII     PIIConfig     `mapstructure:"pii"`
}

// SecretsConfig is the token-scrubbing role.
type SecretsConfig struct {
	// Enabled turns secret scrubbing on; default true.
	Enabled bool `mapstructure:"enabled"`
	// DisableRules names built-in rules to switch off.
	DisableRules []string `mapstructure:"disable_rules"`
	// Rules are user rules, added to (or, by name, replacing) built-ins.
	Rules []RuleConfig `mapstructure:"rules"`
	// AllowValues: glob patterns of secrets to keep (e.g. documentation
	// example keys).
	AllowValues []string `mapstructure:"allow_values"`
	// AllowKeys: glob patterns of attribute keys never scrubbed.
	AllowKeys []string `mapstructure:"allow_keys"`
	// SensitiveKeys: extra glob patterns of attribute keys whose whole
	// value is redacted.
	SensitiveKeys []string `mapstructure:"sensitive_keys"`
	// SensitiveKeyWords replaces the built-in substrings that make a key
	// sensitive (authorization, cookie, password, secret, token, api-key,
	// ...). Unset keeps the built-in list.
	SensitiveKeyWords []string `mapstructure:"sensitive_key_words"`
	// Fingerprint appends a keyed HMAC of the secret to each marker.
	Fingerprint FingerprintConfig `mapstructure:"fingerprint"`
	// MaxValueBytes: a longer string is replaced whole by
	// [REDACTED:oversize] instead of scanned; default 4 MiB.
	MaxValueBytes int `mapstructure:"max_value_bytes"`
	// MaxDepth: maps/arrays nested deeper are replaced whole by
	// [REDACTED:depth-limit]; default 64.
	MaxDepth int `mapstructure:"max_depth"`
}

// RuleConfig is a user rule.
type RuleConfig struct {
	Name     string   `mapstructure:"name"`
	Regex    string   `mapstructure:"regex"`
	Keywords []string `mapstructure:"keywords"`
	Entropy  float64  `mapstructure:"entropy"`
}

// FingerprintConfig: an empty key disables fingerprints.
type FingerprintConfig struct {
	Key    configopaque.String `mapstructure:"key"`
	Length int                 `mapstructure:"length"`
}

// PIIConfig is the hot path's privacy role; every treatment is off unless
// enabled (or given keys).
type PIIConfig struct {
	Paths TemplateConfig `mapstructure:"paths"`
	URLs  TemplateConfig `mapstructure:"urls"`
	SQL   KeysConfig     `mapstructure:"sql"`
	Hash  HashConfig     `mapstructure:"hash"`
}

// TemplateConfig: path or URL templating.
type TemplateConfig struct {
	// Enabled with no keys uses the default keys.
	Enabled bool `mapstructure:"enabled"`
	// Keys: attribute keys (globs allowed) holding paths/URLs.
	Keys []string `mapstructure:"keys"`
	// Templates: glob templates ('*' one segment, '**' many); a matching
	// value becomes the template itself.
	Templates []string `mapstructure:"templates"`
	// Placeholder for identifier-like segments; default "*" for paths,
	// "{id}" for URLs.
	Placeholder string `mapstructure:"placeholder"`
	// SegmentHash replaces identifier-like segments with a keyed HMAC
	// instead of the placeholder.
	SegmentHash SegmentHashConfig `mapstructure:"segment_hash"`
}

// SegmentHashConfig: the key comes from the config (use ${env:VAR} for the
// environment) or from a file; setting either turns hashing on.
type SegmentHashConfig struct {
	Key     configopaque.String `mapstructure:"key"`
	KeyFile string              `mapstructure:"key_file"`
	// Length of the hex HMAC kept; default 16.
	Length int `mapstructure:"length"`
}

// minSegmentKey: a shorter HMAC key is guessable, and a guessed key
// reverses hashed ids by trying them all.
const minSegmentKey = 16

func (h SegmentHashConfig) on() bool { return h.Key != "" || h.KeyFile != "" }

// key returns the configured key; field names the config path in errors.
func (h SegmentHashConfig) key(field string) ([]byte, error) {
	if !h.on() {
		return nil, nil
	}
	if h.Key != "" && h.KeyFile != "" {
		return nil, fmt.Errorf("%s: set key or key_file, not both", field)
	}
	key := []byte(h.Key)
	if h.KeyFile != "" {
		b, err := os.ReadFile(h.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("%s.key_file: %w", field, err)
		}
		key = bytes.TrimRight(b, "\r\n")
	}
	if len(key) < minSegmentKey {
		return nil, fmt.Errorf("%s: the key has %d bytes; use at least %d random bytes (e.g. openssl rand -hex 32)", field, len(key), minSegmentKey)
	}
	if h.Length != 0 && (h.Length < 8 || h.Length > 64) {
		return nil, fmt.Errorf("%s.length: %d; use 8 to 64 hex characters (default 16)", field, h.Length)
	}
	return key, nil
}

// KeysConfig: SQL obfuscation.
type KeysConfig struct {
	Enabled bool     `mapstructure:"enabled"`
	Keys    []string `mapstructure:"keys"`
}

// HashConfig: keyed hashing of whole values.
type HashConfig struct {
	Enabled bool                `mapstructure:"enabled"`
	Keys    []string            `mapstructure:"keys"`
	Key     configopaque.String `mapstructure:"key"`
	Length  int                 `mapstructure:"length"`
}

func (t TemplateConfig) on() bool { return t.Enabled || len(t.Keys) > 0 || t.SegmentHash.on() }
func (k KeysConfig) on() bool     { return k.Enabled || len(k.Keys) > 0 }
func (h HashConfig) on() bool     { return h.Enabled || len(h.Keys) > 0 }

func createDefaultConfig() *Config {
	return &Config{Secrets: SecretsConfig{Enabled: true, MaxValueBytes: 4 << 20, MaxDepth: 64}}
}

// Validate compiles everything once so a bad regex, glob or template is
// rejected at start-up.
func (c *Config) Validate() error {
	var errs []error
	if c.Secrets.MaxValueBytes <= 0 {
		errs = append(errs, fmt.Errorf("secrets.max_value_bytes: %d must be positive (default 4194304)", c.Secrets.MaxValueBytes))
	}
	if c.Secrets.MaxDepth <= 0 || c.Secrets.MaxDepth > 1000 {
		errs = append(errs, fmt.Errorf("secrets.max_depth: %d must be between 1 and 1000 (default 64)", c.Secrets.MaxDepth))
	}
	for i, r := range c.Secrets.Rules {
		if len(r.Keywords) == 0 {
			errs = append(errs, fmt.Errorf("secrets.rules[%d] (%s): add keywords, the literal text every match contains; a rule without keywords would run its regex on every value", i, r.Name))
		}
	}
	if _, err := c.scanner(); err != nil {
		errs = append(errs, fmt.Errorf("secrets: %w", err))
	}
	if _, err := c.keyPolicy(); err != nil {
		errs = append(errs, fmt.Errorf("secrets: %w", err))
	}
	if c.PII.Hash.on() && c.PII.Hash.Key == "" {
		errs = append(errs, errors.New("pii.hash.key: required when hashing is on; set it from the environment, e.g. key: ${env:SCRUB_HASH_KEY}"))
	}
	pathKey, errP := c.PII.Paths.SegmentHash.key("pii.paths.segment_hash")
	urlKey, errU := c.PII.URLs.SegmentHash.key("pii.urls.segment_hash")
	errs = append(errs, errP, errU)
	if errP == nil && errU == nil && pathKey != nil && urlKey != nil && !bytes.Equal(pathKey, urlKey) {
		errs = append(errs, errors.New("pii.urls.segment_hash: use the same key as pii.paths.segment_hash, so a user's id hashes alike in paths and URLs"))
	}
	if _, err := c.piiPolicy(); err != nil && errP == nil && errU == nil {
		errs = append(errs, fmt.Errorf("pii: %w", err))
	}
	return errors.Join(errs...)
}

func (c *Config) scanner() (*secrets.Scanner, error) {
	opts := secrets.Options{
		Disable:        c.Secrets.DisableRules,
		AllowValues:    c.Secrets.AllowValues,
		FingerprintLen: c.Secrets.Fingerprint.Length,
	}
	if c.Secrets.Fingerprint.Key != "" {
		opts.FingerprintKey = []byte(c.Secrets.Fingerprint.Key)
	}
	for _, r := range c.Secrets.Rules {
		opts.Rules = append(opts.Rules, secrets.Rule{Name: r.Name, Regex: r.Regex, Keywords: r.Keywords, Entropy: r.Entropy})
	}
	return secrets.New(opts)
}

func (c *Config) keyPolicy() (*secrets.KeyPolicy, error) {
	return secrets.NewKeyPolicy(secrets.KeyOptions{
		Words:     c.Secrets.SensitiveKeyWords,
		Sensitive: c.Secrets.SensitiveKeys,
		Allow:     c.Secrets.AllowKeys,
	})
}

// piiPolicy returns nil when no pii treatment is on.
func (c *Config) piiPolicy() (*pii.Policy, error) {
	p := c.PII
	if !p.Paths.on() && !p.URLs.on() && !p.SQL.on() && !p.Hash.on() {
		return nil, nil
	}
	segKey, err := p.Paths.SegmentHash.key("pii.paths.segment_hash")
	if err != nil {
		return nil, err
	}
	segLen := p.Paths.SegmentHash.Length
	if segKey == nil {
		if segKey, err = p.URLs.SegmentHash.key("pii.urls.segment_hash"); err != nil {
			return nil, err
		}
		segLen = p.URLs.SegmentHash.Length
	}
	off := []string{}
	keys := func(on bool, ks []string) []string {
		if !on {
			return off
		}
		if len(ks) == 0 {
			return nil // defaults
		}
		return ks
	}
	return pii.New(pii.Options{
		PathKeys:        keys(p.Paths.on(), p.Paths.Keys),
		URLKeys:         keys(p.URLs.on(), p.URLs.Keys),
		SQLKeys:         keys(p.SQL.on(), p.SQL.Keys),
		HashKeys:        keys(p.Hash.on(), p.Hash.Keys),
		PathTemplates:   p.Paths.Templates,
		URLTemplates:    p.URLs.Templates,
		PathPlaceholder: p.Paths.Placeholder,
		URLPlaceholder:  p.URLs.Placeholder,
		HashKey:         []byte(p.Hash.Key),
		HashLength:      p.Hash.Length,
		SegmentKey:      segKey,
		SegmentLength:   segLen,
	})
}
