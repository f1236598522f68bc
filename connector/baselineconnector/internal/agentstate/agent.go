package agentstate

import (
	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/profile"
)

// Limits bound one agent profile.
type Limits struct {
	// Tools (server/tool pairs) and Pairs (read tool -> egress tool
	// orders) kept exactly; beyond, a Bloom summary (quieter, never
	// noisier).
	Tools, Pairs int
	// Hosts reached by the agent's egress tools while it learned.
	Hosts int
}

// DefaultLimits keep an agent profile at caps around 60 KiB.
func DefaultLimits() Limits { return Limits{Tools: 256, Pairs: 256, Hosts: 64} }

// maxServersPerTool bounds how many servers of one tool name shadowing
// remembers.
const maxServersPerTool = 4

// Agent is what one acting agent normally does.
type Agent struct {
	Name      string
	FirstSeen int64
	Sessions  uint64
	Learned   bool
	// AgentSide: the agent reports itself (GenAI spans, coding-agent
	// events); then only its own sessions count toward learning, not the
	// per-connection sessions of its MCP client and server records.
	AgentSide bool
	// Tools are "server\x00tool" of every tool the agent used or was
	// offered; Pairs "readServer/readTool>egressServer/egressTool" orders
	// seen in its sessions; Hosts its egress destinations.
	Tools, Pairs, Hosts profile.Set
	// servedBy is, per tool name, the servers that served it (shadowing).
	servedBy map[string][]string
	// Denial window (recon across the agent's servers).
	WindowStart int64
	WindowCount uint32
	// Recent private reads and unknown-host egress calls of all the
	// agent's sessions: the chain across servers when the emitter's
	// sessions are per server connection (Traceloop, mcp.session.id), so
	// no session spans two servers.
	Recent Session
}

// Served records that server serves tool for this agent and returns the
// other servers that serve the same name (a shadowing), nil when none.
// While the agent learns every server is recorded (its installation);
// after, a server that shadows a name is not recorded, so each of its
// calls is reported again (every attack trace reachable), while a server
// with a name of its own is. Bounded by maxTools names and
// maxServersPerTool servers per name.
func (a *Agent) Served(tool, server string, maxTools int, learning bool) []string {
	srv := a.servedBy[tool]
	for _, s := range srv {
		if s == server {
			return nil
		}
	}
	if len(srv) > 0 && !learning {
		return srv
	}
	if srv == nil && len(a.servedBy) >= maxTools {
		return nil
	}
	if a.servedBy == nil {
		a.servedBy = make(map[string][]string, 8)
	}
	if len(srv) < maxServersPerTool {
		a.servedBy[Clip(tool)] = append(srv, Clip(server))
	}
	return srv
}

// ToolNames is how many tool names shadowing tracks.
func (a *Agent) ToolNames() int { return len(a.servedBy) }

// Agents is a bounded table of agent profiles.
type Agents struct {
	lru     *simplelru.LRU[string, *Agent]
	Evicted uint64
}

// NewAgents holds at most max agents.
func NewAgents(max int) (*Agents, error) {
	t := &Agents{}
	lru, err := simplelru.NewLRU[string, *Agent](max, func(string, *Agent) { t.Evicted++ })
	if err != nil {
		return nil, err
	}
	t.lru = lru
	return t, nil
}

// Get returns the profile of name, creating it when absent.
func (t *Agents) Get(name string, now int64) *Agent {
	if a, ok := t.lru.Get(name); ok {
		return a
	}
	a := &Agent{Name: Clip(name), FirstSeen: now}
	t.lru.Add(a.Name, a)
	return a
}

// Peek returns the profile of name without touching its recency.
func (t *Agents) Peek(name string) (*Agent, bool) { return t.lru.Peek(name) }

// Len is the number of agents held.
func (t *Agents) Len() int { return t.lru.Len() }
