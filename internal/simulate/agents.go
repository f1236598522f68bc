package simulate

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Agent traffic: AI agents calling the tools of MCP servers, reported the
// way the agents and instrumentations people run report it (the shapes of
// testdata/samples/AGENTS.md): GenAI execute_tool spans (Goose), MCP spans
// on the conventions with client and server sides (_meta propagation on or
// off), @traceloop/instrumentation-mcp spans (one mcp.client.session per
// server, initialize naming the server), and the tool log events of Claude
// Code, Codex and Gemini CLI; content capture on or off per agent. Every
// agent has stable habits: its servers, the root its filesystem server
// allows, the hosts its fetch tool reaches, its queries.

// Emitters the agent simulator writes (the event model's names).
const (
	EmitterGenAI      = "genai"
	EmitterMCP        = "mcp"
	EmitterTraceloop  = "traceloop"
	EmitterClaudeCode = "claude_code"
	EmitterCodex      = "codex"
	EmitterGeminiCLI  = "gemini_cli"
)

// AgentEmitters lists every emitter, the default mix.
func AgentEmitters() []string {
	return []string{EmitterGenAI, EmitterMCP, EmitterTraceloop, EmitterClaudeCode, EmitterCodex, EmitterGeminiCLI}
}

// AgentOptions configure an AgentGenerator.
type AgentOptions struct {
	Seed uint64
	// Agents is the number of simulated agents (default 12).
	Agents int
	// Emitters is the mix, assigned round-robin (default AgentEmitters()).
	Emitters []string
	// Content is the fraction of agents that capture tool arguments and
	// results (default 0.5; set ContentSet to use 0).
	Content    float64
	ContentSet bool
	// Meta is the fraction of MCP-convention agents whose client injects
	// trace context into params._meta, so the server span joins the
	// client's trace (default 0.5; set MetaSet to use 0).
	Meta    float64
	MetaSet bool
	// Noise is benign irregularity (missing files, fetch retries after a
	// 5xx, an extra listing, a CDN host), as for extensions.
	Noise float64
}

// Validate names the bad field.
func (o *AgentOptions) Validate() error {
	for _, e := range o.Emitters {
		if !slices.Contains(AgentEmitters(), e) {
			return fmt.Errorf("emitters: unknown emitter %q (known: %v)", e, AgentEmitters())
		}
	}
	if o.Content < 0 || o.Content > 1 {
		return fmt.Errorf("content: %v is not a fraction between 0 and 1", o.Content)
	}
	if o.Meta < 0 || o.Meta > 1 {
		return fmt.Errorf("meta: %v is not a fraction between 0 and 1", o.Meta)
	}
	if !(o.Noise >= 0 && o.Noise <= MaxNoise) {
		return fmt.Errorf("noise: %v must be between 0 and %g", o.Noise, MaxNoise)
	}
	return nil
}

// simTool is a tool of a simulated server and what it does.
type simTool struct {
	name, description string
}

// simServer is an MCP server the agents use. Name is how an operator
// configures it (Goose extension, Claude mcp__<name>__, Codex and Gemini
// mcp_server); Service its service.name; Info its serverInfo.name.
type simServer struct {
	Name, Service, Info string
	Tools               []simTool
}

var agentServers = []simServer{
	{"filesystem", "mcp-filesystem", "secure-filesystem-server", []simTool{
		{"read_text_file", "Read the complete contents of a file from the file system as text."},
		{"list_directory", "Get a detailed listing of all files and directories in a specified path."},
		{"write_file", "Create a new file or completely overwrite an existing file with new content."},
		{"search_files", "Recursively search for files and directories matching a pattern."},
		{"move_file", "Move or rename files and directories."},
	}},
	{"fetch", "mcp-fetch", "mcp-fetch", []simTool{{"fetch", "Fetches a URL from the internet and optionally extracts its contents as markdown."}}},
	{"github", "github-mcp", "github-mcp-server", []simTool{
		{"get_file_contents", "Get the contents of a file or directory from a GitHub repository."},
		{"list_issues", "List issues in a GitHub repository."},
		{"create_issue", "Create a new issue in a GitHub repository."},
	}},
	{"postgres", "mcp-postgres", "postgres-mcp", []simTool{{"query", "Run a read-only SQL query."}}},
	{"everything", "mcp-everything", "mcp-servers/everything", []simTool{
		{"echo", "Echoes back the input string."},
		{"get-sum", "Returns the sum of two numbers."},
		{"get-env", "Returns all environment variables, helpful for debugging MCP server configuration."},
	}},
}

// SimAgent is one simulated agent and its habits.
type SimAgent struct {
	ID      string // its service.name (and gen_ai.agent.name)
	Emitter string
	Content bool
	Meta    bool
	Servers []int // indexes into agentServers; always filesystem and fetch
	Root    string
	Hosts   []string
	Tables  []string
	// sessions counts sessions, for session ids.
	sessions int
}

// AgentGenerator builds agent sessions; safe for concurrent use.
type AgentGenerator struct {
	mu     sync.Mutex
	rng    *rand.Rand
	agents []SimAgent
	noise  float64
}

// NewAgents returns a generator of o.Agents agents.
func NewAgents(o AgentOptions) *AgentGenerator {
	if o.Agents <= 0 {
		o.Agents = 12
	}
	if len(o.Emitters) == 0 {
		o.Emitters = AgentEmitters()
	}
	if !o.ContentSet && o.Content == 0 {
		o.Content = 0.5
	}
	if !o.MetaSet && o.Meta == 0 {
		o.Meta = 0.5
	}
	r := rand.New(rand.NewPCG(o.Seed, o.Seed^0xa6e7))
	g := &AgentGenerator{rng: r, noise: min(o.Noise, MaxNoise)}
	for i := 0; i < o.Agents; i++ {
		w := words[i%len(words)]
		a := SimAgent{
			ID:      fmt.Sprintf("%s-agent-%02d", w, i),
			Emitter: o.Emitters[i%len(o.Emitters)],
			Content: float64((i*7919)%1000)/1000 < o.Content,
			Meta:    float64((i*104729)%1000)/1000 < o.Meta,
			Servers: []int{0, 1},
			Root:    fmt.Sprintf("/home/agent/%s-%02d", w, i),
			Hosts:   []string{fmt.Sprintf("docs.%s-%d.example.org", w, i), "api.github.com"},
			Tables:  []string{w + "_orders", w + "_events"},
		}
		for s := 2; s < len(agentServers); s++ {
			if r.IntN(2) == 0 {
				a.Servers = append(a.Servers, s)
			}
		}
		g.agents = append(g.agents, a)
	}
	return g
}

// Agents returns the simulated agents.
func (g *AgentGenerator) Agents() []SimAgent { return g.agents }

func (g *AgentGenerator) intn(n int) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.rng.IntN(n)
}

func (g *AgentGenerator) float() float64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.rng.Float64()
}

func (g *AgentGenerator) traceID() pcommon.TraceID {
	g.mu.Lock()
	defer g.mu.Unlock()
	var id [16]byte
	binary.BigEndian.PutUint64(id[:8], g.rng.Uint64())
	binary.BigEndian.PutUint64(id[8:], g.rng.Uint64())
	return pcommon.TraceID(id)
}

func (g *AgentGenerator) spanID() pcommon.SpanID {
	g.mu.Lock()
	defer g.mu.Unlock()
	var id [8]byte
	binary.BigEndian.PutUint64(id[:], g.rng.Uint64()|1)
	return pcommon.SpanID(id)
}

// Session returns one benign session of agent i starting at t: two to six
// tool calls of its habits.
func (g *AgentGenerator) Session(i int, t time.Time) (ptrace.Traces, plog.Logs) {
	td, ld, _ := g.session(i, t)
	return td, ld
}

// session is Session, with the number of calls it made.
func (g *AgentGenerator) session(i int, t time.Time) (ptrace.Traces, plog.Logs, int) {
	w := g.newSession(&g.agents[i%len(g.agents)], t)
	for n := 2 + g.intn(5); n > 0; n-- {
		w.call(g.habit(w))
	}
	td, ld := w.finish()
	return td, ld, w.n
}

// Invocation is Session: one unit of benign traffic, as Generator's.
func (g *AgentGenerator) Invocation(i int, t time.Time) (ptrace.Traces, plog.Logs) {
	return g.Session(i, t)
}

// habit picks one of the agent's usual calls, with noise.
func (g *AgentGenerator) habit(w *sessionWriter) agentCall {
	a := w.agent
	fs, fetch := &agentServers[0], &agentServers[1]
	noisy := g.noise > 0 && g.float() < 0.08*g.noise
	switch k := g.intn(10); {
	case k < 4:
		path := fmt.Sprintf("%s/notes/note-%d.md", a.Root, g.intn(50))
		if noisy { // a file that is not there: an error, not a denial
			return agentCall{server: fs, tool: "read_text_file", args: map[string]any{"path": path + ".bak"}, isError: true, result: "Error: ENOENT: no such file or directory, open '" + path + ".bak'"}
		}
		return agentCall{server: fs, tool: "read_text_file", args: map[string]any{"path": path}, result: "# notes"}
	case k < 5:
		return agentCall{server: fs, tool: "list_directory", args: map[string]any{"path": a.Root}, result: "[FILE] notes"}
	case k < 8:
		host := a.Hosts[g.intn(len(a.Hosts))]
		if noisy { // a CDN asset host, or a 5xx before the retry
			if g.intn(2) == 0 {
				host = fmt.Sprintf("d%d.cloudfront.net", 100000+g.intn(900000))
			} else {
				w.call(agentCall{server: fetch, tool: "fetch", args: map[string]any{"url": "https://" + host + "/v1/page"}, isError: true, result: "Failed to fetch: status 503"})
			}
		}
		return agentCall{server: fetch, tool: "fetch", args: map[string]any{"url": "https://" + host + "/v1/page", "max_length": 5000}, result: "<html>"}
	default:
		if len(a.Servers) > 2 {
			s := &agentServers[a.Servers[2+g.intn(len(a.Servers)-2)]]
			switch s.Name {
			case "github":
				return agentCall{server: s, tool: "list_issues", args: map[string]any{"owner": "acme", "repo": "site"}, result: "[]"}
			case "postgres":
				return agentCall{server: s, tool: "query", args: map[string]any{"sql": "SELECT id, total FROM " + a.Tables[0] + " LIMIT 10"}, result: "[]"}
			case "everything":
				return agentCall{server: s, tool: "echo", args: map[string]any{"message": "ping"}, result: "Echo: ping"}
			}
		}
		return agentCall{server: fs, tool: "list_directory", args: map[string]any{"path": a.Root + "/notes"}, result: "[FILE] note-1.md"}
	}
}
