package sandboxevent

import "strings"

// Allocation-free ASCII helpers: the classifier runs on every span, and the
// strings package's case-insensitive functions allocate or do Unicode work
// we do not need for attribute keywords.

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && equalFold(s[:len(prefix)], prefix)
}

func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if equalFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

func trimSpaceLeft(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t' || s[0] == '\n' || s[0] == '\r' || s[0] == '(') {
		s = s[1:]
	}
	return s
}

// HostFromURL returns the host of an absolute URL (scheme://[userinfo@]host[:port]/...),
// lower-cased only when it needs to be; "" when s has no authority.
// It never allocates for an already lower-case host.
func HostFromURL(s string) string {
	i := strings.Index(s, "://")
	if i < 0 {
		return ""
	}
	rest := s[i+3:]
	end := len(rest)
	for j := 0; j < len(rest); j++ {
		if c := rest[j]; c == '/' || c == '?' || c == '#' {
			end = j
			break
		}
	}
	return NormalizeHost(rest[:end])
}

// NormalizeHost strips userinfo, a port and a trailing dot from an
// authority and lower-cases it.
func NormalizeHost(authority string) string {
	for j := len(authority) - 1; j >= 0; j-- {
		if authority[j] == '@' {
			authority = authority[j+1:]
			break
		}
	}
	if len(authority) > 0 && authority[0] == '[' { // IPv6 literal
		if k := strings.IndexByte(authority, ']'); k > 0 {
			return authority[1:k]
		}
		return authority
	}
	if k := strings.LastIndexByte(authority, ':'); k >= 0 && strings.IndexByte(authority[:k], ':') < 0 {
		authority = authority[:k]
	}
	if n := len(authority); n > 0 && authority[n-1] == '.' {
		authority = authority[:n-1]
	}
	return toLowerASCII(authority)
}

func toLowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				b[j] = lowerASCII(b[j])
			}
			return string(b)
		}
	}
	return s
}
