package profile

// DefaultMaxTools bounds the tools an MCP server's registry keeps.
const DefaultMaxTools = 256

// ToolEntry is one tool of a server as the registry knows it: its name
// and the hash of its description or definition (0 when never recorded).
type ToolEntry struct {
	Name string `json:"name"`
	Desc uint64 `json:"desc,omitempty"`
	// Called: the tool was called, not only listed.
	Called bool `json:"called,omitempty"`
}

// Tools is an MCP server's tool registry, for drift detection: which tools
// it served (called or listed) and the hash of each one's description.
// Bounded: beyond the cap, new tools are counted in Overflow and treated
// as known (the detector gets quieter, never noisier).
type Tools struct {
	idx      map[string]int
	entries  []ToolEntry
	overflow uint64
	// Relearn counts the invocations a registry restored without tools
	// (a profile saved before tool drift existed) still learns quietly.
	Relearn uint32
}

// Lookup returns the index of tool, or -1.
func (t *Tools) Lookup(tool string) int {
	if i, ok := t.idx[tool]; ok {
		return i
	}
	return -1
}

// Add registers tool (copied, clipped) and reports its index; -1 when the
// registry is full (counted in Overflow).
func (t *Tools) Add(tool string, desc uint64, limit int) int {
	if i := t.Lookup(tool); i >= 0 {
		return i
	}
	if len(t.entries) >= limit {
		t.overflow++
		return -1
	}
	if len(tool) > MaxNameLen {
		tool = tool[:MaxNameLen]
	}
	if t.idx == nil {
		t.idx = make(map[string]int, 8)
	}
	name := clone(tool)
	t.idx[name] = len(t.entries)
	t.entries = append(t.entries, ToolEntry{Name: name, Desc: desc})
	return len(t.entries) - 1
}

// Called reports whether entry i was called (not only listed).
func (t *Tools) Called(i int) bool { return t.entries[i].Called }

// SetCalled marks entry i called.
func (t *Tools) SetCalled(i int) { t.entries[i].Called = true }

// Desc returns the description hash of entry i.
func (t *Tools) Desc(i int) uint64 { return t.entries[i].Desc }

// SetDesc records the description hash of entry i.
func (t *Tools) SetDesc(i int, h uint64) { t.entries[i].Desc = h }

// Len is the number of tools held.
func (t *Tools) Len() int { return len(t.entries) }

// Full reports whether the registry holds limit tools.
func (t *Tools) Full(limit int) bool { return len(t.entries) >= limit }

// Overflow counts tools not held because the registry was full.
func (t *Tools) Overflow() uint64 { return t.overflow }

// Entries returns a copy of the registry for snapshots.
func (t *Tools) Entries() []ToolEntry { return append([]ToolEntry(nil), t.entries...) }

// Restore rebuilds the registry from a snapshot within limit.
func (t *Tools) Restore(entries []ToolEntry, limit int) {
	for _, e := range entries {
		if i := t.Add(e.Name, e.Desc, limit); i >= 0 {
			t.entries[i].Desc, t.entries[i].Called = e.Desc, e.Called
		}
	}
}
