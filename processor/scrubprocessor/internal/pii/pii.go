// Package pii templates paths and URLs, obfuscates SQL literals and hashes
// identifiers with a keyed HMAC, chosen per attribute key. It is the hot
// path's privacy treatment: the result keeps shape and joinability
// (templates, stable hashes, table names) without the personal bits.
package pii

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	sqllexer "github.com/DataDog/go-sqllexer"
	"github.com/gobwas/glob"

	"github.com/sandwatch/sandwatch/internal/pathtemplate"
)

// Treatment is what happens to a value.
type Treatment uint8

const (
	None Treatment = iota
	Path
	URL
	SQL
	Hash
	numTreatments
)

// Names of treatments, for telemetry.
var Names = [numTreatments]string{"none", "path", "url", "sql", "hash"}

// Default keys, from the semantic conventions and the sandbox host
// profiles the event model knows.
var (
	DefaultPathKeys = []string{"file.path", "file.directory", "fs.path", "vfs.path", "process.executable.path", "code.filepath"}
	DefaultURLKeys  = []string{"url.full", "url.path", "url.original", "http.url", "http.target", "fetch.url", "http_call.url"}
	DefaultSQLKeys  = []string{"db.query.text", "db.statement", "sql.query"}
	DefaultHashKeys = []string{"enduser.id", "user.id", "user.email", "user.name", "client.address", "source.address"}
)

// Options configure a Policy. A nil key list means the defaults; an empty
// non-nil list turns the treatment off.
type Options struct {
	PathKeys, URLKeys, SQLKeys, HashKeys []string
	PathTemplates, URLTemplates          []string
	// PathPlaceholder replaces identifier-like path segments (default "*");
	// URLPlaceholder those of URL paths (default "{id}").
	PathPlaceholder, URLPlaceholder string
	// HashKey is the HMAC-SHA256 key; required when HashKeys is non-empty.
	HashKey []byte
	// HashLength is the hex length kept of the HMAC (default 16).
	HashLength int
	// SegmentKey, when set, replaces identifier-like path and URL path
	// segments with their HMAC-SHA256 under this key (SegmentLength hex
	// characters, default 16) instead of the placeholder:
	// /data/users/12345/profile.jpg -> /data/users/<hmac>/profile.jpg, so
	// two spans of one user stay joinable without revealing the id.
	SegmentKey    []byte
	SegmentLength int
}

// Policy is immutable and safe for concurrent use.
type Policy struct {
	exact   map[string]Treatment
	globs   []keyGlob
	paths   *pathtemplate.Templater
	urls    *pathtemplate.Templater
	sql     *sqllexer.Obfuscator
	hashKey []byte
	hashLen int
}

type keyGlob struct {
	g glob.Glob
	t Treatment
}

func orDefault(keys, def []string) []string {
	if keys == nil {
		return def
	}
	return keys
}

// New compiles opts.
func New(opts Options) (*Policy, error) {
	p := &Policy{exact: map[string]Treatment{}, hashKey: opts.HashKey, hashLen: opts.HashLength}
	if p.hashLen == 0 {
		p.hashLen = 16
	}
	if p.hashLen < 8 || p.hashLen > 64 {
		return nil, fmt.Errorf("hash length %d: use 8 to 64 hex characters", p.hashLen)
	}
	var replace func(string) string
	if len(opts.SegmentKey) > 0 {
		n := opts.SegmentLength
		if n == 0 {
			n = 16
		}
		if n < 8 || n > 64 {
			return nil, fmt.Errorf("segment hash length %d: use 8 to 64 hex characters", n)
		}
		key := opts.SegmentKey
		replace = func(seg string) string { return hmacHex(key, seg, n) }
	}
	sets := []struct {
		keys []string
		t    Treatment
	}{
		{orDefault(opts.PathKeys, DefaultPathKeys), Path},
		{orDefault(opts.URLKeys, DefaultURLKeys), URL},
		{orDefault(opts.SQLKeys, DefaultSQLKeys), SQL},
		{orDefault(opts.HashKeys, DefaultHashKeys), Hash},
	}
	for _, s := range sets {
		for _, k := range s.keys {
			if s.t == Hash && len(opts.HashKey) == 0 {
				continue // hashing needs a key; Validate upstream says so
			}
			if prev, dup := p.exact[k]; dup && prev != s.t {
				return nil, fmt.Errorf("key %q is listed for both %s and %s; keep one", k, Names[prev], Names[s.t])
			}
			if strings.ContainsAny(k, "*?[{") {
				g, err := glob.Compile(k)
				if err != nil {
					return nil, fmt.Errorf("%s key %q: not a glob pattern: %w", Names[s.t], k, err)
				}
				p.globs = append(p.globs, keyGlob{g, s.t})
				continue
			}
			p.exact[k] = s.t
		}
	}
	var err error
	if p.paths, err = pathtemplate.New(pathtemplate.Options{Templates: opts.PathTemplates, Placeholder: opts.PathPlaceholder, Replace: replace}); err != nil {
		return nil, fmt.Errorf("path templates: %w", err)
	}
	up := opts.URLPlaceholder
	if up == "" {
		up = "{id}"
	}
	if p.urls, err = pathtemplate.New(pathtemplate.Options{Templates: opts.URLTemplates, Placeholder: up, Replace: replace}); err != nil {
		return nil, fmt.Errorf("url templates: %w", err)
	}
	// Digits inside identifiers stay (table names such as orders_2024);
	// literals become '?'.
	p.sql = sqllexer.NewObfuscator(sqllexer.WithReplaceDigits(false), sqllexer.WithReplaceBoolean(true), sqllexer.WithReplaceNull(false))
	return p, nil
}

// For returns the treatment of attribute key.
func (p *Policy) For(key string) Treatment {
	if t, ok := p.exact[key]; ok {
		return t
	}
	for _, g := range p.globs {
		if g.g.Match(key) {
			return g.t
		}
	}
	return None
}

// Empty reports whether no key gets any treatment.
func (p *Policy) Empty() bool { return len(p.exact) == 0 && len(p.globs) == 0 }

// Apply returns v treated by t and whether it changed.
func (p *Policy) Apply(t Treatment, v string) (string, bool) {
	switch t {
	case Path:
		return p.paths.Apply(v)
	case URL:
		return p.URL(v)
	case SQL:
		out := p.sql.Obfuscate(v)
		return out, out != v
	case Hash:
		if v == "" {
			return v, false
		}
		return p.Hash(v), true
	}
	return v, false
}

// Hash returns the truncated hex HMAC-SHA256 of v.
func (p *Policy) Hash(v string) string { return hmacHex(p.hashKey, v, p.hashLen) }

func hmacHex(key []byte, v string, n int) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(v))
	var sum [sha256.Size]byte
	return hex.EncodeToString(m.Sum(sum[:0]))[:n]
}

// URL templates the path of an absolute or path-only URL, replaces query
// values with '*' (they are as personal as path ids) and drops the
// fragment. Scheme, host and port are kept: destinations are what the
// hot path aggregates on.
func (p *Policy) URL(v string) (string, bool) {
	rest := v
	prefix := ""
	if i := strings.Index(v, "://"); i >= 0 {
		j := strings.IndexAny(v[i+3:], "/?#")
		if j < 0 {
			return v, false
		}
		prefix, rest = v[:i+3+j], v[i+3+j:]
	}
	path, query, frag := rest, "", false
	if i := strings.IndexByte(path, '#'); i >= 0 {
		path, frag = path[:i], true
	}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path, query = path[:i], path[i+1:]
	}
	tp, pathChanged := p.urls.Apply(path)
	tq, queryChanged := templateQuery(query)
	if !pathChanged && !queryChanged && !frag {
		return v, false
	}
	var b strings.Builder
	b.Grow(len(v))
	b.WriteString(prefix)
	b.WriteString(tp)
	if query != "" {
		b.WriteByte('?')
		b.WriteString(tq)
	}
	return b.String(), true
}

func templateQuery(q string) (string, bool) {
	if q == "" {
		return q, false
	}
	var b strings.Builder
	changed := false
	for i, kv := range strings.Split(q, "&") {
		if i > 0 {
			b.WriteByte('&')
		}
		k, val, ok := strings.Cut(kv, "=")
		b.WriteString(k)
		if ok {
			b.WriteByte('=')
			if val != "" && val != "*" {
				changed = true
			}
			if val != "" {
				b.WriteByte('*')
			}
		}
	}
	if !changed {
		return q, false
	}
	return b.String(), true
}
