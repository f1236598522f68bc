// Package binding holds the operator's identity bindings: which
// credential (a bearer token, a basic-auth user name, a client
// certificate's common name or SAN) is which identity, and which extension
// ids or host names each identity may report. It is pure logic: the
// processor feeds it the credentials of a request and the claims of each
// record.
package binding

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Entry is one identity as the operator writes it, in the processor's
// config (`bindings:`) or in a bindings file (`identities:`).
type Entry struct {
	// Name identifies the identity in stamps, flags and anomaly events.
	Name string `mapstructure:"name" yaml:"name"`
	// TokensSHA256 are the hex SHA-256 digests of the bearer tokens that
	// are this identity (digests, so the bindings hold no secret).
	TokensSHA256 []string `mapstructure:"tokens_sha256" yaml:"tokens_sha256"`
	// Usernames are basic-auth user names (from the basicauth extension).
	Usernames []string `mapstructure:"usernames" yaml:"usernames"`
	// CertCommonNames and CertSANs match a verified client certificate's
	// subject common name, or any of its DNS, URI, e-mail or IP SANs.
	CertCommonNames []string `mapstructure:"cert_common_names" yaml:"cert_common_names"`
	CertSANs        []string `mapstructure:"cert_sans" yaml:"cert_sans"`
	// Extensions are the extension ids the identity may report (exact, or
	// with * wildcards). Empty: any extension, provided Hosts is set.
	Extensions []string `mapstructure:"extensions" yaml:"extensions"`
	// Hosts are the resource host.name values it may report from (exact,
	// or with * wildcards). Empty: any host, provided Extensions is set.
	Hosts []string `mapstructure:"hosts" yaml:"hosts"`
}

// Forwarders are the peers whose identity stamp is believed: tier 1's own
// client certificate, by common name or SAN.
type Forwarders struct {
	CertCommonNames []string `mapstructure:"cert_common_names" yaml:"cert_common_names"`
	CertSANs        []string `mapstructure:"cert_sans" yaml:"cert_sans"`
}

// Empty reports whether no forwarder is configured.
func (f Forwarders) Empty() bool { return len(f.CertCommonNames) == 0 && len(f.CertSANs) == 0 }

// Validate checks every entry and that no credential belongs to two
// identities; errors name the field as `<field>[i].<key>`.
func Validate(field string, entries []Entry) error {
	var errs []error
	names := map[string]int{}
	owner := map[string]string{} // credential key -> identity name
	for i, e := range entries {
		at := fmt.Sprintf("%s[%d]", field, i)
		if strings.TrimSpace(e.Name) == "" {
			errs = append(errs, fmt.Errorf("%s.name: empty; every identity needs a name", at))
		} else if j, dup := names[e.Name]; dup {
			errs = append(errs, fmt.Errorf("%s.name: %q is also %s[%d]; names must be unique", at, e.Name, field, j))
		} else {
			names[e.Name] = i
		}
		if len(e.TokensSHA256)+len(e.Usernames)+len(e.CertCommonNames)+len(e.CertSANs) == 0 {
			errs = append(errs, fmt.Errorf("%s: %q has no credential; set tokens_sha256, usernames, cert_common_names or cert_sans", at, e.Name))
		}
		if len(e.Extensions)+len(e.Hosts) == 0 {
			errs = append(errs, fmt.Errorf("%s: %q may report nothing; set extensions or hosts (\"*\" for any)", at, e.Name))
		}
		for _, h := range e.TokensSHA256 {
			if b, err := hex.DecodeString(h); err != nil || len(b) != sha256.Size {
				errs = append(errs, fmt.Errorf("%s.tokens_sha256: %q is not a hex SHA-256 digest (64 hex digits: sha256sum of the token)", at, h))
			}
		}
		for _, kv := range []struct {
			key  string
			vals []string
		}{{"tokens_sha256", lowerAll(e.TokensSHA256)}, {"usernames", e.Usernames}, {"cert_common_names", e.CertCommonNames}, {"cert_sans", e.CertSANs}} {
			for _, v := range kv.vals {
				if v == "" {
					errs = append(errs, fmt.Errorf("%s.%s: empty value", at, kv.key))
					continue
				}
				k := kv.key + "\x00" + v
				if prev, ok := owner[k]; ok && prev != e.Name {
					errs = append(errs, fmt.Errorf("%s.%s: %q also belongs to %q; a credential must name one identity", at, kv.key, v, prev))
				}
				owner[k] = e.Name
			}
		}
		for _, kv := range []struct {
			key  string
			vals []string
		}{{"extensions", e.Extensions}, {"hosts", e.Hosts}} {
			for _, v := range kv.vals {
				if v == "" {
					errs = append(errs, fmt.Errorf("%s.%s: empty pattern", at, kv.key))
				}
			}
		}
	}
	return errors.Join(errs...)
}

func lowerAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToLower(s)
	}
	return out
}

// Identity is one compiled entry.
type Identity struct {
	Name       string
	extensions patterns
	hosts      patterns
	// anything: bound to extensions ["*"] and no hosts, so Covers always
	// holds and records need not be read at all.
	anything bool
}

// CoversAnything reports whether the identity may report any record.
func (id *Identity) CoversAnything() bool { return id.anything }

// Covers returns "" when the identity may report a record of extension
// ext (empty: the record claims none) from host (empty: no host.name),
// else the reason it may not (an identitymark.Reason* value).
func (id *Identity) Covers(ext, host string) string {
	if !id.hosts.empty() && (host == "" || !id.hosts.match(host)) {
		return reasonHostNotBound
	}
	if !id.extensions.empty() && ext != "" && !id.extensions.match(ext) {
		return reasonExtensionNotBound
	}
	return ""
}

// Copies of identitymark's reasons (binding stays free of pdata).
const (
	reasonExtensionNotBound = "extension_not_bound"
	reasonHostNotBound      = "host_not_bound"
)

// Credentials are what a request proved about its sender.
type Credentials struct {
	// Token is the bearer token (without its scheme), when one was sent.
	Token string
	// Username is the basic-auth user an authenticator verified.
	Username string
	// CertCommonName and CertSANs come from a verified client certificate.
	CertCommonName string
	CertSANs       []string
}

// Set is the compiled bindings: credential lookups by map.
type Set struct {
	byName   map[string]*Identity
	byToken  map[[sha256.Size]byte]*Identity
	byUser   map[string]*Identity
	byCN     map[string]*Identity
	bySAN    map[string]*Identity
	fwdCN    map[string]bool
	fwdSAN   map[string]bool
	entries  int
	hasToken bool
}

// Compile validates entries and forwarders and builds a Set.
func Compile(field string, entries []Entry, fwd Forwarders) (*Set, error) {
	if err := Validate(field, entries); err != nil {
		return nil, err
	}
	s := &Set{byName: map[string]*Identity{}, byToken: map[[sha256.Size]byte]*Identity{}, byUser: map[string]*Identity{},
		byCN: map[string]*Identity{}, bySAN: map[string]*Identity{}, fwdCN: set(fwd.CertCommonNames), fwdSAN: set(fwd.CertSANs), entries: len(entries)}
	for _, e := range entries {
		id := &Identity{Name: e.Name, extensions: compilePatterns(e.Extensions), hosts: compilePatterns(e.Hosts)}
		id.anything = len(e.Hosts) == 0 && slices.Contains(e.Extensions, "*")
		s.byName[e.Name] = id
		for _, h := range e.TokensSHA256 {
			var d [sha256.Size]byte
			_, _ = hex.Decode(d[:], []byte(strings.ToLower(h))) // validated above
			s.byToken[d] = id
			s.hasToken = true
		}
		for _, u := range e.Usernames {
			s.byUser[u] = id
		}
		for _, cn := range e.CertCommonNames {
			s.byCN[cn] = id
		}
		for _, san := range e.CertSANs {
			s.bySAN[san] = id
		}
	}
	return s, nil
}

func set(ss []string) map[string]bool {
	m := make(map[string]bool, len(ss))
	for _, s := range ss {
		m[s] = true
	}
	return m
}

// Len is the number of identities.
func (s *Set) Len() int { return s.entries }

// ByName returns the identity called name (a stamp), or nil.
func (s *Set) ByName(name string) *Identity { return s.byName[name] }

// Resolve returns the identity of a request, or nil. A token or user name
// (a credential per client) wins over the certificate (often per node or
// per workload class); among SANs the first bound one wins.
func (s *Set) Resolve(c Credentials) *Identity {
	if c.Token != "" && s.hasToken {
		if id, ok := s.byToken[sha256.Sum256([]byte(c.Token))]; ok {
			return id
		}
	}
	if c.Username != "" {
		if id, ok := s.byUser[c.Username]; ok {
			return id
		}
	}
	if c.CertCommonName != "" {
		if id, ok := s.byCN[c.CertCommonName]; ok {
			return id
		}
	}
	for _, san := range c.CertSANs {
		if id, ok := s.bySAN[san]; ok {
			return id
		}
	}
	return nil
}

// IsForwarder reports whether the request came from a trusted forwarder:
// its verified certificate's common name or a SAN is listed.
func (s *Set) IsForwarder(c Credentials) bool {
	if c.CertCommonName != "" && s.fwdCN[c.CertCommonName] {
		return true
	}
	for _, san := range c.CertSANs {
		if s.fwdSAN[san] {
			return true
		}
	}
	return false
}
