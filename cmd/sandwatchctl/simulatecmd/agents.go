package simulatecmd

import (
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/simulate"
)

// source is what the realistic mode draws traffic from: sandbox
// extensions (simulate.Generator) or AI agents (simulate.AgentGenerator).
type source interface {
	Invocation(i int, t time.Time) (ptrace.Traces, plog.Logs)
	Inject(name string, i int, t time.Time) (ptrace.Traces, plog.Logs, simulate.Injection, error)
}

func newSource(o Options) source {
	if o.Agents {
		return simulate.NewAgents(o.agentOptions())
	}
	return simulate.New(simulate.Options{Seed: o.Seed, Extensions: o.Extensions, Noise: o.Noise})
}

func (o *Options) agentOptions() simulate.AgentOptions {
	return simulate.AgentOptions{Seed: o.Seed, Agents: o.Extensions, Emitters: o.AgentEmitters,
		Content: o.Content, ContentSet: true, Meta: o.Meta, MetaSet: true, Noise: o.Noise}
}
