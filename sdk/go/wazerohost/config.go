package wazerohost

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// Config configures a Host. The zero value is valid: no host is allowed,
// runs time out after 10 s, instances get at most 128 MiB of memory.
type Config struct {
	// Allowlist names the hosts plugins may reach through http_call
	// (see Allowlist for the syntax). Empty denies every call.
	Allowlist []string
	// TracerProvider makes the spans; nil means the global one
	// (otel.GetTracerProvider()).
	TracerProvider trace.TracerProvider
	// HTTPClient performs the calls; nil means a client with CallTimeout.
	// Its redirects are checked against the allowlist too.
	HTTPClient *http.Client
	// RunTimeout bounds one plugin run, http_calls included (default 10s).
	RunTimeout time.Duration
	// CallTimeout bounds one http_call (default 5s).
	CallTimeout time.Duration
	// MemoryLimitMiB caps each instance's linear memory (default 128).
	MemoryLimitMiB uint32
	// MaxRequestBytes caps a request body a plugin hands to http_call
	// (default 1 MiB); a larger one fails the call with invalid_request.
	MaxRequestBytes uint32
	// MaxOutputBytes caps what is kept of a run's stdout and stderr each
	// (default 64 KiB; the rest is dropped).
	MaxOutputBytes int
	// ChildOfCaller makes a run's plugin.execute span a child of the span
	// in Run's context. By default each run roots its own trace and links
	// that span: sandwatch counts a root span as the invocation and
	// archives per trace.
	ChildOfCaller bool
}

const (
	defaultRunTimeout      = 10 * time.Second
	defaultCallTimeout     = 5 * time.Second
	defaultMemoryLimitMiB  = 128
	defaultMaxRequestBytes = 1 << 20
	defaultMaxOutputBytes  = 64 << 10
	maxMemoryLimitMiB      = 4096 // wasm32: 65536 pages of 64 KiB
)

// Validate reports every invalid field.
func (c *Config) Validate() error {
	var errs []error
	if _, err := NewAllowlist(c.Allowlist); err != nil {
		errs = append(errs, fmt.Errorf("Allowlist: %w", err))
	}
	if c.RunTimeout < 0 {
		errs = append(errs, errors.New("RunTimeout: must not be negative"))
	}
	if c.CallTimeout < 0 {
		errs = append(errs, errors.New("CallTimeout: must not be negative"))
	}
	if c.MemoryLimitMiB > maxMemoryLimitMiB {
		errs = append(errs, fmt.Errorf("MemoryLimitMiB: %d exceeds the wasm32 limit of %d", c.MemoryLimitMiB, maxMemoryLimitMiB))
	}
	if c.MaxOutputBytes < 0 {
		errs = append(errs, errors.New("MaxOutputBytes: must not be negative"))
	}
	return errors.Join(errs...)
}

func (c Config) withDefaults() Config {
	if c.RunTimeout == 0 {
		c.RunTimeout = defaultRunTimeout
	}
	if c.CallTimeout == 0 {
		c.CallTimeout = defaultCallTimeout
	}
	if c.MemoryLimitMiB == 0 {
		c.MemoryLimitMiB = defaultMemoryLimitMiB
	}
	if c.MaxRequestBytes == 0 {
		c.MaxRequestBytes = defaultMaxRequestBytes
	}
	if c.MaxOutputBytes == 0 {
		c.MaxOutputBytes = defaultMaxOutputBytes
	}
	return c
}
