package secrets

import (
	"fmt"
	"hash/maphash"

	"github.com/gobwas/glob"
)

// DefaultSensitiveKeyWords are substrings (ASCII case-insensitive) of
// attribute keys whose whole string value is a credential: headers such
// as http.request.header.authorization, x-api-key, cookie, and config
// keys such as db.password or client_secret.
var DefaultSensitiveKeyWords = []string{
	"authorization", "cookie", "password", "passwd", "passphrase", "secret",
	"token", "api-key", "api_key", "apikey", "x-api-key", "credential",
	"private_key", "private-key", "privatekey", "access_key", "access-key",
	"signature", "x-amz-security-token",
}

// KeyPolicy decides, per attribute key, whether its value is skipped
// (allow-listed) or redacted whole (sensitive).
type KeyPolicy struct {
	words     *keywordIndex
	sensitive []glob.Glob
	allow     []glob.Glob
	cache     keyCache
}

// KeyOptions configure a KeyPolicy.
type KeyOptions struct {
	// Words are substrings marking a key sensitive; nil means
	// DefaultSensitiveKeyWords, an empty non-nil slice none.
	Words []string
	// Sensitive are extra glob patterns of sensitive keys.
	Sensitive []string
	// Allow are glob patterns of keys whose values are never scanned nor
	// redacted (allow-list wins over everything).
	Allow []string
}

// NewKeyPolicy compiles opts.
func NewKeyPolicy(opts KeyOptions) (*KeyPolicy, error) {
	p := &KeyPolicy{words: newKeywordIndex()}
	p.cache.seed = maphash.MakeSeed()
	words := opts.Words
	if words == nil {
		words = DefaultSensitiveKeyWords
	}
	for _, w := range words {
		if w == "" {
			return nil, fmt.Errorf("sensitive key word: empty string")
		}
		p.words.add(w, 0)
	}
	for _, s := range opts.Sensitive {
		g, err := glob.Compile(s)
		if err != nil {
			return nil, fmt.Errorf("sensitive key %q: not a glob pattern: %w", s, err)
		}
		p.sensitive = append(p.sensitive, g)
	}
	for _, s := range opts.Allow {
		g, err := glob.Compile(s)
		if err != nil {
			return nil, fmt.Errorf("allow key %q: not a glob pattern: %w", s, err)
		}
		p.allow = append(p.allow, g)
	}
	return p, nil
}

// Classify returns Allowed(key) and Sensitive(key), from a cache of the
// keys seen lately.
func (p *KeyPolicy) Classify(key string) (allowed, sensitive bool) {
	d, h := p.cache.get(key)
	if d == nil {
		d = &keyDecision{key: key, allowed: p.Allowed(key), sensitive: p.Sensitive(key)}
		p.cache.put(h, d)
	}
	return d.allowed, d.sensitive
}

// Allowed reports whether key's values are exempt from scrubbing.
func (p *KeyPolicy) Allowed(key string) bool {
	for _, g := range p.allow {
		if g.Match(key) {
			return true
		}
	}
	return false
}

// Sensitive reports whether key names a credential. Keys counting tokens
// (gen_ai.usage.input_tokens, max_tokens) are not credentials.
func (p *KeyPolicy) Sensitive(key string) bool {
	for _, g := range p.sensitive {
		if g.Match(key) {
			return true
		}
	}
	var hits ruleSet
	if !p.words.scan(key, &hits) {
		return false
	}
	return !countsTokens(key)
}

func countsTokens(key string) bool {
	n := len(key)
	for i := 0; i+6 <= n; i++ {
		if lowerTab[key[i]] == 't' && toLowerASCII(key[i:i+6]) == "tokens" {
			return true
		}
	}
	return false
}
