package profile

// Class is a kind of target a profile keeps a set of.
type Class uint8

const (
	ClassHost Class = iota
	ClassPath
	ClassTable
	ClassCapability
	ClassLibrary
	NumClasses
)

var classNames = [NumClasses]string{"hosts", "paths", "tables", "capabilities", "libraries"}

func (c Class) String() string {
	if c < NumClasses {
		return classNames[c]
	}
	return "unknown"
}

// NumKinds mirrors sandboxevent's operation kinds (checked by a test).
const NumKinds = 8

// maxBlockTypes bounds per-block-type duration statistics per profile.
const maxBlockTypes = 16

// Limits bound one profile's memory.
type Limits struct {
	// MaxTargets per class, exact; beyond it the Bloom summary.
	MaxTargets [NumClasses]int
	// MaxTools per MCP server registry (0 = DefaultMaxTools).
	MaxTools int
}

// ToolLimit is MaxTools, defaulted.
func (l Limits) ToolLimit() int {
	if l.MaxTools <= 0 {
		return DefaultMaxTools
	}
	return l.MaxTools
}

// DefaultLimits keep a full profile well under 32 KiB.
func DefaultLimits() Limits {
	return Limits{MaxTargets: [NumClasses]int{64, 64, 32, 16, 16}}
}

// Profile is what one extension normally does.
type Profile struct {
	ID   string
	Sets [NumClasses]Set
	// Per-invocation statistics.
	Duration Stat // milliseconds, whole invocation
	Counts   [NumKinds]Stat
	Probes   Stat
	Errors   Stat
	Denials  Stat
	Blocks   []BlockStat // per block type span durations (ms), bounded
	// Invocations completed so far.
	Invocations uint64
	FirstSeen   int64 // unix nanoseconds
	LastSeen    int64
	// Learned: the warm-up is over and novelty is reported.
	Learned bool
	// Imported is a declared profile that came with persisted state
	// (sandwatchctl baseline import); Declared is it compiled together with
	// the configured one. Neither is learned.
	Imported *DeclaredSpec
	Declared *Declared
	// Probe window (recon across invocations).
	WindowStart int64
	WindowCount uint32
	// Egress bytes per invocation and per window (egress_volume), and
	// the current window.
	Egress       Stat
	EgressWindow Stat
	WinStart     int64
	WinBytes     int64
	WinReported  bool
	// Version last seen, the versions known (bounded), and how many
	// invocations of relearning an update has left.
	Version  string
	Versions []string
	Relearn  uint32
	// Reads remembered for exfiltration across invocations (not
	// persisted: the horizon is short).
	Reads Reads
	// Tools an MCP server served, with description hashes (tool drift).
	Tools Tools
	// BuiltinChecked: the shipped MCP server profiles were looked up for
	// this id (not persisted; looked up again after a restart).
	BuiltinChecked bool
}

// MaxVersions bounds the versions a profile remembers.
const MaxVersions = 8

// BlockStat is the duration statistic of one block type.
type BlockStat struct {
	Type string `json:"type"`
	Stat Stat   `json:"stat"`
}

// New returns an empty profile for id (copied).
func New(id string, now int64) *Profile {
	return &Profile{ID: clone(id), FirstSeen: now, LastSeen: now}
}

// Block returns the statistic of block type t, adding it when there is
// room; nil when the profile already tracks maxBlockTypes types.
func (p *Profile) Block(t string) *Stat {
	for i := range p.Blocks {
		if p.Blocks[i].Type == t {
			return &p.Blocks[i].Stat
		}
	}
	if len(p.Blocks) >= maxBlockTypes {
		return nil
	}
	if len(t) > MaxNameLen {
		t = t[:MaxNameLen]
	}
	p.Blocks = append(p.Blocks, BlockStat{Type: clone(t)})
	return &p.Blocks[len(p.Blocks)-1].Stat
}

// Size is the number of exact targets held across classes.
func (p *Profile) Size() int {
	n := 0
	for i := range p.Sets {
		n += p.Sets[i].Len()
	}
	return n
}
