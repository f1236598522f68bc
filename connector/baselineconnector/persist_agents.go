package baselineconnector

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/persist"
)

// loadAgents restores the agent profiles saved with the extensions'
// profiles (storage only: with a shared store an agent's calls reach
// several replicas, each with part of its profile). Unreadable stored
// agents are left alone: the agents learn afresh and are not saved over.
func (b *baseline) loadAgents(ctx context.Context) {
	agents, err := persist.LoadAgents(ctx, b.client)
	if err != nil {
		b.noSaveAgents = true
		b.set.Logger.Error("baseline: stored agent profiles not loaded; learning them afresh and not overwriting them", zap.Error(err))
		return
	}
	b.mu.Lock()
	b.eng.RestoreAgents(agents)
	b.mu.Unlock()
	if len(agents) > 0 {
		b.set.Logger.Info("baseline: agent profiles loaded", zap.Int("agents", len(agents)))
	}
}

// saveAgents writes the agent profiles beside the extensions' profiles.
func (b *baseline) saveAgents(ctx context.Context, now time.Time) error {
	if b.noSaveAgents {
		return nil
	}
	b.mu.Lock()
	agents := b.eng.AgentSnapshots()
	b.mu.Unlock()
	return persist.SaveAgents(ctx, b.client, agents, now)
}
