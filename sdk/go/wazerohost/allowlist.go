package wazerohost

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Allowlist decides which hosts a plugin may reach through http_call.
// Entries are host names or IP addresses, matched case-insensitively and
// without the port: "api.example.com" matches only that host;
// "*.example.com" matches any subdomain of example.com but not
// example.com itself. Only http and https URLs are ever allowed.
type Allowlist struct {
	exact    map[string]string
	suffixes []string // ".example.com", from "*.example.com"
}

// NewAllowlist validates and compiles entries.
func NewAllowlist(entries []string) (*Allowlist, error) {
	a := &Allowlist{exact: make(map[string]string, len(entries))}
	for i, e := range entries {
		e = strings.ToLower(strings.TrimSpace(e))
		switch {
		case e == "":
			return nil, fmt.Errorf("allowlist[%d]: empty entry", i)
		case strings.ContainsAny(e, "/:?#@ "):
			return nil, fmt.Errorf("allowlist[%d]: %q is not a host name (no scheme, port or path)", i, e)
		case strings.HasPrefix(e, "*."):
			if len(e) == 2 || strings.Contains(e[2:], "*") {
				return nil, fmt.Errorf("allowlist[%d]: %q: a wildcard needs a domain after \"*.\"", i, e)
			}
			a.suffixes = append(a.suffixes, e[1:])
		case strings.Contains(e, "*"):
			return nil, fmt.Errorf("allowlist[%d]: %q: only a leading \"*.\" wildcard is supported", i, e)
		default:
			a.exact[strings.TrimSuffix(e, ".")] = entries[i]
		}
	}
	return a, nil
}

// Decide returns whether rawURL may be called and, when it may, the entry
// that allowed it; when it may not, why.
func (a *Allowlist) Decide(rawURL string) (allowed bool, rule, reason string) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false, "", "invalid URL"
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return false, "", fmt.Sprintf("scheme %q not allowed", u.Scheme)
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "" {
		return false, "", "no host"
	}
	return a.decideHost(host)
}

func (a *Allowlist) decideHost(host string) (bool, string, string) {
	if a != nil {
		if rule, ok := a.exact[host]; ok {
			return true, rule, ""
		}
		if net.ParseIP(host) == nil { // wildcards name domains, never addresses
			for _, s := range a.suffixes {
				if strings.HasSuffix(host, s) {
					return true, "*" + s, ""
				}
			}
		}
	}
	return false, "", fmt.Sprintf("host %s not in allowlist", host)
}
