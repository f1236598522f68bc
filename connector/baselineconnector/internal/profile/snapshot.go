package profile

// Snapshot is the serialisable form of a Profile (see internal/persist
// for the versioned envelope).
type Snapshot struct {
	ID          string              `json:"id"`
	Learned     bool                `json:"learned"`
	Invocations uint64              `json:"invocations"`
	FirstSeen   int64               `json:"first_seen"`
	LastSeen    int64               `json:"last_seen"`
	Targets     map[string][]string `json:"targets,omitempty"`
	Overflow    map[string]uint64   `json:"overflow,omitempty"`
	Bloom       map[string][]uint64 `json:"bloom,omitempty"`
	Duration    Stat                `json:"duration_ms"`
	Counts      map[string]Stat     `json:"counts,omitempty"`
	Probes      Stat                `json:"probes"`
	Errors      Stat                `json:"errors"`
	Denials     Stat                `json:"denials"`
	Blocks      []BlockStat         `json:"blocks,omitempty"`
	Declared    *DeclaredSpec       `json:"declared,omitempty"`
	// Added with egress_volume and version updates (absent in older files).
	Egress       Stat     `json:"egress_bytes"`
	EgressWindow Stat     `json:"egress_window_bytes"`
	Version      string   `json:"version,omitempty"`
	Versions     []string `json:"versions,omitempty"`
	Relearn      uint32   `json:"relearn,omitempty"`
	// Added with tool drift: the MCP server's tools. ToolsKnown is set by
	// every save that has a registry, so a profile saved before it is told
	// apart from a server with no tools.
	Tools      []ToolEntry `json:"tools,omitempty"`
	ToolsKnown bool        `json:"tools_known,omitempty"`
}

// KindNames names the per-kind counters in snapshots (sandboxevent order).
var KindNames = [NumKinds]string{"other", "fs", "http", "db", "dns", "net", "exec", "capability"}

// Snapshot returns p's serialisable form (copies).
func (p *Profile) Snapshot() Snapshot {
	s := Snapshot{ID: p.ID, Learned: p.Learned, Invocations: p.Invocations, FirstSeen: p.FirstSeen, LastSeen: p.LastSeen,
		Duration: p.Duration, Probes: p.Probes, Errors: p.Errors, Denials: p.Denials,
		Blocks: append([]BlockStat(nil), p.Blocks...), Declared: p.Imported,
		Egress: p.Egress, EgressWindow: p.EgressWindow, Version: p.Version, Versions: append([]string(nil), p.Versions...), Relearn: p.Relearn,
		Tools: p.Tools.Entries(), ToolsKnown: true}
	for c := range p.Sets {
		set := &p.Sets[c]
		name := Class(c).String()
		if set.Len() > 0 {
			if s.Targets == nil {
				s.Targets = map[string][]string{}
			}
			s.Targets[name] = append([]string(nil), set.Names()...)
		}
		if set.Overflow() > 0 {
			if s.Overflow == nil {
				s.Overflow, s.Bloom = map[string]uint64{}, map[string][]uint64{}
			}
			s.Overflow[name] = set.Overflow()
			s.Bloom[name] = append([]uint64(nil), set.Bloom()...)
		}
	}
	for k := range p.Counts {
		if p.Counts[k].N > 0 {
			if s.Counts == nil {
				s.Counts = map[string]Stat{}
			}
			s.Counts[KindNames[k]] = p.Counts[k]
		}
	}
	return s
}

// FromSnapshot rebuilds a Profile within limits.
func FromSnapshot(s *Snapshot, lim Limits) *Profile {
	p := &Profile{ID: clone(s.ID), Learned: s.Learned, Invocations: s.Invocations, FirstSeen: s.FirstSeen, LastSeen: s.LastSeen,
		Duration: s.Duration, Probes: s.Probes, Errors: s.Errors, Denials: s.Denials, Imported: s.Declared,
		Egress: s.Egress, EgressWindow: s.EgressWindow, Version: clone(s.Version), Relearn: s.Relearn}
	for _, v := range s.Versions {
		if len(p.Versions) < MaxVersions {
			p.Versions = append(p.Versions, clone(v))
		}
	}
	for c := range p.Sets {
		name := Class(c).String()
		p.Sets[c].Restore(s.Targets[name], s.Bloom[name], s.Overflow[name], lim.MaxTargets[c])
	}
	for k, n := range KindNames {
		if st, ok := s.Counts[n]; ok {
			p.Counts[k] = st
		}
	}
	p.Tools.Restore(s.Tools, lim.ToolLimit())
	for _, b := range s.Blocks {
		if st := p.Block(b.Type); st != nil {
			*st = b.Stat
		}
	}
	return p
}
