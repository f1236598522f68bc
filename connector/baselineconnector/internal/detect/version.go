package detect

import (
	"slices"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/profile"
)

// versionSeen records the extension version an event carries. A version
// never seen before, once the extension is learned, opens a relearning
// window of VersionRelearn invocations: an update legitimately adds a
// host or a path, and reporting it would train operators to ignore
// new_destination. Returning to a known version (a rolling deploy that
// mixes old and new) opens nothing, so alternating versions cannot keep
// the window open. Declared profiles, exfiltration, egress_volume,
// recon, capability_denied and unreported_access are not relaxed.
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
