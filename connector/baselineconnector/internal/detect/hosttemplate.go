package detect

import (
	"strings"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/profile"
)

// TemplateHost turns rotating host names into templates, as path
// templating does for paths: every label left of the registrable domain
// that holds a digit or looks random (10+ characters with few vowels or a
// run of 5 consonants) becomes "*" (CDN distributions and edge servers,
// regions, shards, numbered API hosts), so
//
//	d1x2y3z4abcd.cloudfront.net               -> *.cloudfront.net
//	server-13-32-99-12.fra56.r.cloudfront.net -> *.*.r.cloudfront.net
//	eu-west-1.api.example.com                 -> *.api.example.com
//
// The registrable domain (the last two labels, three under a two-letter
// country code with a generic second level such as co.uk) is never
// templated: an unknown domain stays unknown. IP addresses and names with
// no digit left of it are returned as they are, without allocating.
//
// The trade-off: an extension that learned *.cloudfront.net accepts any
// CloudFront distribution. egress_volume, exfiltration and declared
// profiles (matched on the raw name) still apply to such hosts.
func TemplateHost(h string) string {
	if h == "" || isIPLiteral(h) {
		return h
	}
	cut := registrableStart(h)
	if cut <= 0 || !rotates(h[:cut]) {
		return h
	}
	var b strings.Builder
	b.Grow(len(h))
	for _, label := range strings.Split(h[:cut-1], ".") {
		if hasDigit(label) || looksRandom(label) {
			b.WriteString("*")
		} else {
			b.WriteString(label)
		}
		b.WriteByte('.')
	}
	b.WriteString(h[cut:])
	return b.String()
}

// registrableStart returns the index where h's registrable domain begins
// (0 when h is no more than one).
func registrableStart(h string) int {
	last := strings.LastIndexByte(h, '.')
	if last <= 0 {
		return 0
	}
	second := strings.LastIndexByte(h[:last], '.')
	if second < 0 {
		return 0
	}
	tld, sld := h[last+1:], h[second+1:last]
	if len(tld) == 2 && genericSLD(sld) {
		third := strings.LastIndexByte(h[:second], '.')
		if third < 0 {
			return 0
		}
		return third + 1
	}
	return second + 1
}

func genericSLD(s string) bool {
	switch s {
	case "co", "com", "net", "org", "gov", "ac", "edu", "ne", "or", "go":
		return true
	}
	return false
}

// rotates reports whether any label of the dot-separated prefix would be
// templated (without allocating).
func rotates(prefix string) bool {
	for prefix != "" {
		i := strings.IndexByte(prefix, '.')
		if i < 0 {
			i = len(prefix)
		}
		if l := prefix[:i]; hasDigit(l) || looksRandom(l) {
			return true
		}
		prefix = prefix[min(i+1, len(prefix)):]
	}
	return false
}

// looksRandom: a generated label such as a CloudFront distribution id
// (dxiyfbemrqspar) rather than a word (translate, notifications).
func looksRandom(l string) bool {
	if len(l) < 10 {
		return false
	}
	vowels, run, maxRun := 0, 0, 0
	for i := 0; i < len(l); i++ {
		switch c := l[i] | 0x20; {
		case c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || c == 'y':
			vowels++
			run = 0
		case c >= 'a' && c <= 'z':
			run++
			maxRun = max(maxRun, run)
		default:
			run = 0
		}
	}
	return vowels*4 < len(l) || maxRun >= 5
}

func hasDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			return true
		}
	}
	return false
}

// isIPLiteral: IPv6 (any colon) or dotted digits only.
func isIPLiteral(h string) bool {
	if strings.IndexByte(h, ':') >= 0 {
		return true
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; c != '.' && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// hostTemplates caches TemplateHost per raw name: the same few hosts
// recur on every span, and templating one allocates. Bounded; cleared
// when full.
type hostTemplates struct {
	m   map[string]string
	max int
}

func (c *hostTemplates) get(h string) string {
	if t, ok := c.m[h]; ok {
		return t
	}
	t := TemplateHost(h)
	if t == h {
		return h // nothing to cache: templating did not allocate
	}
	if c.m == nil || len(c.m) >= c.max {
		c.m = make(map[string]string, 256)
	}
	c.m[strings.Clone(h)] = t
	return t
}

// knownHost is the host half of judge for a host not in the set as
// templated: the raw name (a profile saved before host templating, a
// declared pattern), or a learned template whose first label is "*"
// covering it (a learned *.cloudfront.net covers a distribution id that
// happens to hold no digit). Only unknown hosts get here.
func (e *Engine) knownHost(p *profile.Profile, target, raw string) bool {
	set := &p.Sets[profile.ClassHost]
	if raw != target && (set.Contains(profile.Hash(raw)) || p.Declared.Match(profile.ClassHost, raw)) {
		return true
	}
	if !e.s.TemplateHosts {
		return false
	}
	i := strings.IndexByte(target, '.')
	if i <= 0 || i >= registrableStart(target) {
		return false // no label left of the registrable domain
	}
	return set.Contains(profile.Hash("*" + target[i:]))
}
