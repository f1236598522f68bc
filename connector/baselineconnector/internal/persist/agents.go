package persist

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/agentstate"
)

// Agent profiles are stored apart from the extensions' profiles, under one
// key (there are few agents: max_agents bounds them), in the same
// format-and-version envelope.
const (
	AgentsKey     = "baseline/agents"
	AgentsFormat  = "sandwatch.baseline.agents"
	AgentsVersion = 1
)

type agentsEnvelope struct {
	Format  string                     `json:"format"`
	Version int                        `json:"version"`
	SavedAt time.Time                  `json:"saved_at"`
	Agents  []agentstate.AgentSnapshot `json:"agents"`
}

// SaveAgents writes the agent profiles.
func SaveAgents(ctx context.Context, kv KV, agents []agentstate.AgentSnapshot, now time.Time) error {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(agentsEnvelope{Format: AgentsFormat, Version: AgentsVersion, SavedAt: now.UTC(), Agents: agents}); err != nil {
		return fmt.Errorf("baseline: encode agent profiles: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("baseline: compress agent profiles: %w", err)
	}
	if err := kv.Set(ctx, AgentsKey, buf.Bytes()); err != nil {
		return fmt.Errorf("baseline: save agent profiles: %w", err)
	}
	return nil
}

// LoadAgents reads the agent profiles; nothing stored is (nil, nil).
func LoadAgents(ctx context.Context, kv KV) ([]agentstate.AgentSnapshot, error) {
	b, err := kv.Get(ctx, AgentsKey)
	if err != nil {
		return nil, fmt.Errorf("baseline: read agent profiles: %w", err)
	}
	if b == nil {
		return nil, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("baseline: agent profiles are not gzip: %w", err)
	}
	var env agentsEnvelope
	if err := json.NewDecoder(io.LimitReader(zr, maxChunkBytes)).Decode(&env); err != nil {
		return nil, fmt.Errorf("baseline: decode agent profiles: %w", err)
	}
	if env.Format != AgentsFormat || env.Version != AgentsVersion {
		return nil, fmt.Errorf("baseline: stored agent profiles are %q version %d, this build reads %q version %d", env.Format, env.Version, AgentsFormat, AgentsVersion)
	}
	return env.Agents, nil
}
