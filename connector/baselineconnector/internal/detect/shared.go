package detect

import (
	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/profile"
)

// SnapshotSeenSince returns the serialisable form of every profile seen at
// or after since (unix ns): the ones a replica changed and must write to
// the shared store. Profiles it no longer receives are left alone, so a
// replica never overwrites the newer copy of an extension that moved away.
func (e *Engine) SnapshotSeenSince(since int64) []profile.Snapshot {
	var out []profile.Snapshot
	for _, p := range e.profiles.Values() {
		if p.LastSeen >= since {
			out = append(out, p.Snapshot())
		}
	}
	return out
}
