package detect

import (
	"errors"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/agentstate"
)

// Anomaly types of agents that chain tools.
const (
	// TypeCrossToolExfiltration: a private read by one tool, then egress
	// by another tool to a host outside the agent's and the tool's
	// profiles, within one session or trace (content captured).
	TypeCrossToolExfiltration = "cross_tool_exfiltration"
	// TypeCrossToolSequence: the same chain judged by tool classes only
	// (content not captured): a read-class tool, then an egress-class tool
	// the agent never chained after it.
	TypeCrossToolSequence = "cross_tool_sequence"
	// TypeNewTool: a tool of a learned or declared MCP server called or
	// listed for the first time, or outside the declared list.
	TypeNewTool = "new_tool"
	// TypeToolDescriptionChanged: a tool's description or definition hash
	// changed after learning (a rug pull).
	TypeToolDescriptionChanged = "tool_description_changed"
	// TypeToolListChanged: notifications/tools/list_changed after learning.
	TypeToolListChanged = "tool_list_changed"
	// TypeToolShadowing: one tool name served by two servers an agent uses.
	TypeToolShadowing = "tool_shadowing"
)

// AgentDetectors configure the detectors of agents that chain tools.
type AgentDetectors struct {
	CrossToolExfiltration  Toggle `mapstructure:"cross_tool_exfiltration"`
	CrossToolSequence      Toggle `mapstructure:"cross_tool_sequence"`
	NewTool                Toggle `mapstructure:"new_tool"`
	ToolDescriptionChanged Toggle `mapstructure:"tool_description_changed"`
	ToolListChanged        Toggle `mapstructure:"tool_list_changed"`
	ToolShadowing          Toggle `mapstructure:"tool_shadowing"`
}

// DefaultAgentDetectors: the content-based chain is critical like
// exfiltration; the class-only chain one step lower (it cannot tell a
// private read from a public one).
func DefaultAgentDetectors() AgentDetectors {
	return AgentDetectors{
		CrossToolExfiltration:  Toggle{true, SeverityCritical},
		CrossToolSequence:      Toggle{true, SeverityError},
		NewTool:                Toggle{true, SeverityWarn},
		ToolDescriptionChanged: Toggle{true, SeverityError},
		ToolListChanged:        Toggle{true, SeverityWarn},
		ToolShadowing:          Toggle{true, SeverityError},
	}
}

func (a AgentDetectors) check() error {
	return errors.Join(
		a.CrossToolExfiltration.check("cross_tool_exfiltration"),
		a.CrossToolSequence.check("cross_tool_sequence"),
		a.NewTool.check("new_tool"),
		a.ToolDescriptionChanged.check("tool_description_changed"),
		a.ToolListChanged.check("tool_list_changed"),
		a.ToolShadowing.check("tool_shadowing"),
	)
}

// AgentSettings bound the agent state of an Engine.
type AgentSettings struct {
	// MaxAgents profiles and MaxSessions sessions, least recently used
	// evicted.
	MaxAgents   int
	MaxSessions int
	// SessionCalls is how many reads and how many egress calls a session
	// remembers (each).
	SessionCalls int
	// LearnSessions: an agent profile learns for this many sessions (or
	// the engine's LearnWindow since it was first seen).
	LearnSessions uint64
	Limits        agentstate.Limits
	// BuiltinServers attaches the shipped declared profiles of reference
	// MCP servers (internal/mcpservers) to servers that have none.
	BuiltinServers bool
	// ReportTargetNovelty reports new_path and new_destination for the
	// targets of agent tool calls, as for any extension (default off:
	// the model chooses them; see agentTargetQuiet).
	ReportTargetNovelty bool
}

// DefaultAgentSettings: 256 agents, 4,096 sessions of 8 reads and 8
// egress calls, 50 sessions of learning.
func DefaultAgentSettings() AgentSettings {
	return AgentSettings{MaxAgents: 256, MaxSessions: 4096, SessionCalls: 8, LearnSessions: 50,
		Limits: agentstate.DefaultLimits(), BuiltinServers: true}
}

func (s *AgentSettings) defaults() {
	d := DefaultAgentSettings()
	if s.MaxAgents <= 0 {
		s.MaxAgents = d.MaxAgents
	}
	if s.MaxSessions <= 0 {
		s.MaxSessions = d.MaxSessions
	}
	if s.SessionCalls <= 0 {
		s.SessionCalls = d.SessionCalls
	}
	if s.LearnSessions == 0 {
		s.LearnSessions = d.LearnSessions
	}
	if s.Limits.Tools <= 0 || s.Limits.Pairs <= 0 || s.Limits.Hosts <= 0 {
		s.Limits = d.Limits
	}
}
