package detect

import (
	"fmt"
	"strings"

	"github.com/gobwas/glob"
)

// SensitiveConfig names what an extension must not touch unnoticed:
// credential files and cloud metadata addresses. exfiltration remembers
// reads of these paths across invocations; unreported_access flags them
// in the kernel's record when no span reports them.
type SensitiveConfig struct {
	// Paths are globs ('*' within a segment, '**' across).
	Paths []string `mapstructure:"paths"`
	// Addresses are hosts or IP addresses (exact, case-insensitive).
	Addresses []string `mapstructure:"addresses"`
}

// DefaultSensitive: credential stores of the usual tools, the shadow
// files, service-account tokens, process environments, and the cloud
// metadata endpoints.
func DefaultSensitive() SensitiveConfig {
	return SensitiveConfig{
		Paths: []string{
			"/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/sudoers", "/etc/sudoers.d/**", "/etc/ssl/private/**",
			"/root/**", "**/.ssh/**", "**/.aws/credentials", "**/.aws/config", "**/.config/gcloud/**", "**/.azure/**",
			"**/.kube/config", "**/.docker/config.json", "**/.netrc", "**/.git-credentials", "**/.config/gh/hosts.yml",
			"**/.gnupg/**", "**/.npmrc", "**/.pypirc", "/var/run/secrets/**", "/run/secrets/**", "/proc/*/environ",
		},
		Addresses: []string{"169.254.169.254", "fd00:ec2::254", "169.254.170.2", "100.100.100.200", "metadata.google.internal", "metadata.azure.com"},
	}
}

// Check compiles the globs; errors name the key.
func (c SensitiveConfig) Check() error {
	_, err := c.compile()
	return err
}

// sensitive is the compiled set, with a bounded cache of verdicts: the
// same few path templates recur on every read.
type sensitive struct {
	paths []glob.Glob
	addrs map[string]bool
	cache map[string]bool
}

const maxSensitiveCache = 4096

func (c SensitiveConfig) compile() (*sensitive, error) {
	s := &sensitive{addrs: map[string]bool{}}
	for _, p := range c.Paths {
		g, err := glob.Compile(p, '/')
		if err != nil {
			return nil, fmt.Errorf("sensitive.paths: pattern %q: %w", p, err)
		}
		s.paths = append(s.paths, g)
	}
	for _, a := range c.Addresses {
		if strings.TrimSpace(a) == "" {
			return nil, fmt.Errorf("sensitive.addresses: empty address")
		}
		s.addrs[strings.ToLower(strings.Trim(a, "[]"))] = true
	}
	return s, nil
}

// path reports whether p matches a sensitive glob.
func (s *sensitive) path(p string) bool {
	if s == nil || len(s.paths) == 0 {
		return false
	}
	if v, ok := s.cache[p]; ok {
		return v
	}
	v := false
	for _, g := range s.paths {
		if g.Match(p) {
			v = true
			break
		}
	}
	if s.cache == nil || len(s.cache) >= maxSensitiveCache {
		s.cache = make(map[string]bool, 64)
	}
	s.cache[strings.Clone(p)] = v
	return v
}

// addr reports whether a host or address is sensitive.
func (s *sensitive) addr(a string) bool {
	return s != nil && s.addrs[strings.ToLower(a)]
}
