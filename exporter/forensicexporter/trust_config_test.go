package forensicexporter

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"

	"github.com/sandwatch/sandwatch/internal/archive"
)

func TestTrustConfigFromYAML(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	conf := confmap.NewFromStringMap(map[string]any{
		"store":     "s3://archive",
		"s3":        map[string]any{"region": "us-east-1", "object_lock": map[string]any{"mode": "COMPLIANCE", "days": 30}},
		"integrity": map[string]any{"signing_key_file": "/etc/sandwatch/digest.pem", "writer_id": "gw-1", "interval": "15m"},
		"encryption": map[string]any{"active_key": "k2", "keys": []any{
			map[string]any{"id": "k1", "file": "/etc/sandwatch/kek-1"},
			map[string]any{"id": "k2", "env": "SANDWATCH_KEK_2"},
		}},
	})
	require.NoError(t, conf.Unmarshal(cfg))
	require.NoError(t, cfg.Validate())
	assert.Equal(t, 30, cfg.S3.ObjectLock.Days)
	assert.Equal(t, 15*time.Minute, cfg.Integrity.Interval)
	assert.Equal(t, "SANDWATCH_KEK_2", cfg.Encryption.Keys[1].Env)
}

func TestTrustConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		mut  func(*Config)
		want string
	}{
		{func(c *Config) { c.Integrity.WriterID = "a/b"; c.Integrity.SigningKeyFile = "k" }, "integrity.writer_id"},
		{func(c *Config) { c.Integrity.Interval = time.Hour }, "integrity.signing_key_file"},
		{func(c *Config) { c.Integrity.SigningKeyFile = "k"; c.Integrity.Interval = time.Millisecond }, "integrity.interval"},
		{func(c *Config) { c.Encryption.Keys = []archive.KeySource{{ID: "k1", File: "f"}} }, "encryption.active_key"},
		{func(c *Config) {
			c.Encryption.ActiveKey = "k1"
			c.Encryption.Keys = []archive.KeySource{{ID: "k1", File: "f", Env: "E"}}
		}, "encryption.keys[0]: set exactly one of file, env"},
		{func(c *Config) { c.S3.ObjectLock.Mode = "FOREVER"; c.S3.ObjectLock.Days = 1 }, "s3.object_lock.mode"},
		{func(c *Config) { c.S3.ObjectLock.Mode = "GOVERNANCE" }, "s3.object_lock.days"},
		{func(c *Config) { c.S3.ObjectLock = archive.ObjectLock{Mode: "GOVERNANCE", Days: 1} }, "s3.object_lock: only for s3:// stores"},
	} {
		cfg := createDefaultConfig().(*Config)
		tc.mut(cfg)
		assert.ErrorContains(t, cfg.Validate(), tc.want)
	}
}
