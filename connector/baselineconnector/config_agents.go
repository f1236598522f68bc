package baselineconnector

import (
	"errors"
	"fmt"
	"time"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/agentstate"
	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/detect"
)

// AgentsConfig bounds the state kept about agents that chain tools: a
// profile per agent and the recent reads and egress calls of each session.
type AgentsConfig struct {
	// MaxAgents agent profiles (about 85 KiB each at their caps).
	MaxAgents int `mapstructure:"max_agents"`
	// MaxSessions sessions (about 5 KiB each at their caps).
	MaxSessions int `mapstructure:"max_sessions"`
	// SessionCalls reads and as many egress calls remembered per session.
	SessionCalls int `mapstructure:"session_calls"`
	// LearnSessions an agent profile learns for (or learn_window).
	LearnSessions uint64 `mapstructure:"learn_sessions"`
	// MaxTools per MCP server's tool registry.
	MaxTools int `mapstructure:"max_tools"`
	// BuiltinServers attaches the shipped declared profiles of the
	// reference MCP servers (filesystem, fetch, everything, memory, git,
	// github) to servers of those names that have no declared profile.
	BuiltinServers bool `mapstructure:"builtin_servers"`
	// SessionWait holds a span whose server is known only through its
	// session (Traceloop) until the session's initialize span arrives, at
	// most this long (0: observe it at once, unattributed).
	SessionWait time.Duration `mapstructure:"session_wait"`
	// MaxWaiting caps the spans held at once; beyond, observed at once.
	MaxWaiting int `mapstructure:"max_waiting"`
	// ReportTargetNovelty reports new_path and new_destination for the
	// paths and hosts of agent tool calls as for any extension. Off by
	// default: the model chooses them (a fetch tool reaches any URL), so
	// alone they are noise; they still count as never seen for the
	// cross-tool chains, and declared roots and hosts are enforced.
	ReportTargetNovelty bool `mapstructure:"report_target_novelty"`
}

func defaultAgentsConfig() AgentsConfig {
	d := detect.DefaultAgentSettings()
	return AgentsConfig{MaxAgents: d.MaxAgents, MaxSessions: d.MaxSessions, SessionCalls: d.SessionCalls,
		LearnSessions: d.LearnSessions, MaxTools: 256, BuiltinServers: true, SessionWait: 5 * time.Second, MaxWaiting: 10000}
}

func (a AgentsConfig) validate() error {
	var errs []error
	check := func(name string, ok bool, fix string) {
		if !ok {
			errs = append(errs, fmt.Errorf("agents.%s: %s", name, fix))
		}
	}
	check("max_agents", a.MaxAgents > 0, fmt.Sprintf("must be at least 1 (got %d, default 256)", a.MaxAgents))
	check("max_sessions", a.MaxSessions > 0, fmt.Sprintf("must be at least 1 (got %d, default 4096)", a.MaxSessions))
	check("session_calls", a.SessionCalls >= 1 && a.SessionCalls <= 256, fmt.Sprintf("must be between 1 and 256 (got %d, default 8)", a.SessionCalls))
	check("learn_sessions", a.LearnSessions > 0, "must be at least 1 (default 50)")
	check("max_tools", a.MaxTools >= 1 && a.MaxTools <= 4096, fmt.Sprintf("must be between 1 and 4096 (got %d, default 256)", a.MaxTools))
	check("session_wait", a.SessionWait >= 0 && a.SessionWait <= time.Minute, fmt.Sprintf("must be between 0 and 1m (got %s, default 5s)", a.SessionWait))
	check("max_waiting", a.MaxWaiting >= 0, fmt.Sprintf("must be >= 0 (got %d, default 10000)", a.MaxWaiting))
	return errors.Join(errs...)
}

func (a AgentsConfig) settings() detect.AgentSettings {
	return detect.AgentSettings{MaxAgents: a.MaxAgents, MaxSessions: a.MaxSessions, SessionCalls: a.SessionCalls,
		LearnSessions: a.LearnSessions, Limits: agentstate.DefaultLimits(), BuiltinServers: a.BuiltinServers,
		ReportTargetNovelty: a.ReportTargetNovelty}
}
