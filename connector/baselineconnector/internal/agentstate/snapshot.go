package agentstate

import "github.com/sandwatch/sandwatch/connector/baselineconnector/internal/profile"

// SetSnapshot is the serialisable form of a profile.Set.
type SetSnapshot struct {
	Names    []string `json:"names,omitempty"`
	Bloom    []uint64 `json:"bloom,omitempty"`
	Overflow uint64   `json:"overflow,omitempty"`
}

func snapSet(s *profile.Set) SetSnapshot {
	return SetSnapshot{Names: append([]string(nil), s.Names()...), Bloom: append([]uint64(nil), s.Bloom()...), Overflow: s.Overflow()}
}

// AgentSnapshot is the serialisable form of an Agent's learned profile
// (not its sessions or recent calls: the horizon is short).
type AgentSnapshot struct {
	Name      string              `json:"name"`
	FirstSeen int64               `json:"first_seen"`
	Sessions  uint64              `json:"sessions"`
	Learned   bool                `json:"learned"`
	AgentSide bool                `json:"agent_side,omitempty"`
	Tools     SetSnapshot         `json:"tools"`
	Pairs     SetSnapshot         `json:"pairs"`
	Hosts     SetSnapshot         `json:"hosts"`
	ServedBy  map[string][]string `json:"served_by,omitempty"`
}

// Snapshot returns a's serialisable form (copies).
func (a *Agent) Snapshot() AgentSnapshot {
	s := AgentSnapshot{Name: a.Name, FirstSeen: a.FirstSeen, Sessions: a.Sessions, Learned: a.Learned, AgentSide: a.AgentSide,
		Tools: snapSet(&a.Tools), Pairs: snapSet(&a.Pairs), Hosts: snapSet(&a.Hosts)}
	if len(a.servedBy) > 0 {
		s.ServedBy = make(map[string][]string, len(a.servedBy))
		for k, v := range a.servedBy {
			s.ServedBy[k] = append([]string(nil), v...)
		}
	}
	return s
}

// FromSnapshot rebuilds an Agent within lim (names clipped, lists bounded).
func FromSnapshot(s *AgentSnapshot, lim Limits) *Agent {
	a := &Agent{Name: Clip(s.Name), FirstSeen: s.FirstSeen, Sessions: s.Sessions, Learned: s.Learned, AgentSide: s.AgentSide}
	a.Tools.Restore(s.Tools.Names, s.Tools.Bloom, s.Tools.Overflow, lim.Tools)
	a.Pairs.Restore(s.Pairs.Names, s.Pairs.Bloom, s.Pairs.Overflow, lim.Pairs)
	a.Hosts.Restore(s.Hosts.Names, s.Hosts.Bloom, s.Hosts.Overflow, lim.Hosts)
	for tool, servers := range s.ServedBy {
		for _, srv := range servers {
			a.Served(tool, srv, lim.Tools, true)
		}
	}
	return a
}

// Snapshot returns every agent's serialisable form, least recently used
// first.
func (t *Agents) Snapshot() []AgentSnapshot {
	out := make([]AgentSnapshot, 0, t.lru.Len())
	for _, a := range t.lru.Values() {
		out = append(out, a.Snapshot())
	}
	return out
}

// Restore adds the agents of snaps (in order; beyond the table's size the
// least recently used are evicted as usual).
func (t *Agents) Restore(snaps []AgentSnapshot, lim Limits) {
	for i := range snaps {
		a := FromSnapshot(&snaps[i], lim)
		t.lru.Add(a.Name, a)
	}
}
