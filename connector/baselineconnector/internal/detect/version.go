package detect

import (
	"slices"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/profile"
)

// versionSeen records the extension version an event carries. A version
// never seen before, once the extension is learned, opens a relearning
// window of VersionRelearn invocations: an update legitimately adds a
// path, or a host within a domain it already uses, and reporting it
// would train operators to ignore new_destination; a host in a new domain
// is still reported. Returning to a known version (a rolling deploy that
// mixes old and new) opens nothing, so alternating versions cannot keep
// the window open. New tables, capabilities and libraries are still
// reported; declared profiles, exfiltration, egress_volume, recon,
// capability_denied and unreported_access are not relaxed.
func (e *Engine) versionSeen(p *profile.Profile, v string, learned bool) {
	v = Clip(v)
	known := slices.Contains(p.Versions, v)
	if !known {
		if len(p.Versions) >= profile.MaxVersions {
			p.Versions = append(p.Versions[:0], p.Versions[1:]...)
		}
		p.Versions = append(p.Versions, v)
	}
	if p.Version != "" && !known && learned && e.s.VersionRelearn > 0 {
		p.Relearn = e.s.VersionRelearn
	}
	p.Version = v
}

// knownDomain reports whether host's registrable domain is that of a host
// in p's exact set: an update may add hosts within the domains the
// extension already uses, but a new domain is still reported.
func knownDomain(p *profile.Profile, host string) bool {
	d := host[registrableStart(host):]
	for _, h := range p.Sets[profile.ClassHost].Names() {
		if h[registrableStart(h):] == d {
			return true
		}
	}
	return false
}
