// Package simulatecmd is `sandwatchctl simulate`: realistic sandbox
// telemetry over OTLP, with attack scenarios injected on demand, and a
// high-rate mode of pre-encoded batches for benchmarks.
package simulatecmd

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sandwatch/sandwatch/internal/sandboxevent"
	"github.com/sandwatch/sandwatch/internal/simulate"
)

// Options are the command's flags.
type Options struct {
	Endpoint    string
	Protocol    string
	Rate        float64
	Duration    time.Duration
	Extensions  int
	Seed        uint64
	Scenarios   []string
	AttackAfter time.Duration
	Learn       int
	Truth       string
	Concurrency int

	HighRate    bool
	BatchSpans  int
	Batches     int
	JSON        bool
	MaxRequests int
	SpanRate    float64

	// Noise: benign irregularity (retries, pagination, rotating hosts,
	// slow runs, version updates); 0 = clean.
	Noise float64

	// SecretRatio turns this fraction of the high-rate spans into HTTP
	// calls carrying credentials (simulate.AddSecrets).
	SecretRatio float64

	// Agents sends AI-agent sessions instead of sandbox extensions (see
	// agents.go): AgentEmitters is the mix, Content and Meta the fractions
	// of agents with content capture and _meta propagation on.
	Agents        bool
	AgentEmitters []string
	Content       float64
	Meta          float64
	// CycleCalls: with --agents --high-rate, the least number of tool
	// calls in the cycle of distinct requests (see encodeHighRate).
	CycleCalls int
}

// NewCommand returns the simulate command.
func NewCommand() *cobra.Command {
	o := Options{}
	cmd := &cobra.Command{
		Use:   "simulate",
		Short: "Send realistic sandbox telemetry (and attack scenarios) to a collector over OTLP",
		Long: `Send realistic sandbox telemetry to a collector over OTLP: many extensions with
stable habits under the Goose, semconv, wazero and JS-sandbox conventions,
with attack scenarios injected at random times after --attack-after.

Scenarios: ` + strings.Join(simulate.Scenarios(), ", ") + ` (or "all").

--agents sends AI-agent sessions instead: agents calling the tools of MCP
servers (filesystem, fetch, github, postgres, everything), reported as
GenAI execute_tool spans, MCP client/server spans, @traceloop spans and
Claude Code, Codex and Gemini CLI log events (--agent-emitters), with
content capture (--content) and _meta propagation (--meta) on for a
fraction of the agents. Agent scenarios: ` + strings.Join(simulate.AgentScenarios(), ", ") + `.

--high-rate sends pre-encoded batches as fast as the receiver takes them
(for benchmarks) and prints the achieved rate. --agents --high-rate sends
the agent mix that way: traces and logs requests of about --batch-spans
records each, in the proportion the agent sessions produce them; the
--json summary counts spans, log_records and records (both).`,
		Example: `  sandwatchctl simulate --duration 30s --scenario exfiltration,recon
  sandwatchctl simulate --agents --noise --scenario agent-exfiltration,agent-outside-roots
  sandwatchctl simulate --protocol unix --endpoint ./data/otlp.sock
  sandwatchctl simulate --high-rate --duration 20s --json
  sandwatchctl simulate --agents --high-rate --extensions 200 --duration 20s --json`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			if o.HighRate {
				return runHighRate(cmd.Context(), cmd.OutOrStdout(), o)
			}
			return runRealistic(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Endpoint, "endpoint", "127.0.0.1:4317", "collector OTLP endpoint: host:port (grpc), http://host:port (http), or a socket path (unix)")
	f.StringVar(&o.Protocol, "protocol", "grpc", "grpc, http or unix")
	f.Float64Var(&o.Rate, "rate", 20, "benign invocations per second")
	f.DurationVar(&o.Duration, "duration", 10*time.Second, "how long to send (0 = until interrupted)")
	f.IntVar(&o.Extensions, "extensions", 50, "number of simulated extensions")
	f.Uint64Var(&o.Seed, "seed", 1, "random seed (same seed, same telemetry)")
	f.StringSliceVar(&o.Scenarios, "scenario", nil, "attack scenarios to inject, comma-separated, or all")
	f.DurationVar(&o.AttackAfter, "attack-after", 0, "inject attacks only after this much time")
	f.IntVar(&o.Learn, "learn", 0, "first send this many benign invocations per extension, as fast as possible (a learning period)")
	f.StringVar(&o.Truth, "truth", "", "write the injected attacks (ground truth) as JSON lines to this file")
	f.IntVar(&o.Concurrency, "concurrency", 4, "concurrent requests in flight")
	f.BoolVar(&o.HighRate, "high-rate", false, "send pre-encoded batches as fast as possible")
	f.IntVar(&o.BatchSpans, "batch-spans", 1000, "high-rate: spans per request (records, spans or log records, with --agents)")
	f.IntVar(&o.Batches, "batches", 32, "high-rate: distinct pre-encoded requests to cycle through (with --agents: at least this many, traces and logs)")
	f.IntVar(&o.MaxRequests, "max-requests", 0, "high-rate: stop after this many requests (0 = no limit)")
	f.Float64Var(&o.SpanRate, "span-rate", 0, "high-rate: cap the load at this many spans (records, with --agents) per second (0 = as fast as possible)")
	f.Float64Var(&o.SecretRatio, "secret-ratio", 0, "high-rate: fraction of spans that are HTTP calls with api_key=sk_live_... in url.full and a bearer JWT header (0.33 = the secret-heavy mix)")
	f.BoolVar(&o.JSON, "json", false, "print the summary as JSON")
	f.Float64Var(&o.Noise, "noise", 0, fmt.Sprintf("benign noise level: retries after 5xx/timeouts, variable pagination, rotating CDN/regional hosts, slow runs, version updates adding a host (0 = clean, --noise alone = %g, max %g)", simulate.DefaultNoise, simulate.MaxNoise))
	f.Lookup("noise").NoOptDefVal = fmt.Sprint(simulate.DefaultNoise)
	f.BoolVar(&o.Agents, "agents", false, "send AI-agent sessions (MCP tool calls) instead of sandbox extensions; --extensions is the number of agents")
	f.StringSliceVar(&o.AgentEmitters, "agent-emitters", simulate.AgentEmitters(), "agents: the emitter mix, round-robin over the agents")
	f.Float64Var(&o.Content, "content", 0.5, "agents: fraction that capture tool arguments and results (0 = content capture off everywhere)")
	f.IntVar(&o.CycleCalls, "cycle-calls", 2*sandboxevent.DefaultDedupeMax, "agents, high-rate: least number of tool calls in the distinct requests cycled through; the collector skips most work on a call it remembers (its dedupe window holds "+fmt.Sprint(sandboxevent.DefaultDedupeMax)+"), so fewer measures repeats, not calls")
	f.Float64Var(&o.Meta, "meta", 0.5, "agents: fraction of MCP-convention agents that propagate trace context in params._meta")
	return cmd
}

func (o *Options) validate() error {
	switch o.Protocol {
	case "grpc", "http", "unix":
	default:
		return fmt.Errorf("--protocol %q: use grpc, http or unix", o.Protocol)
	}
	if o.Extensions <= 0 {
		return fmt.Errorf("--extensions must be positive")
	}
	if o.Rate <= 0 && !o.HighRate {
		return fmt.Errorf("--rate must be positive")
	}
	if o.Concurrency <= 0 {
		return fmt.Errorf("--concurrency must be positive")
	}
	if slices.Contains(o.Scenarios, "all") {
		o.Scenarios = simulate.Scenarios()
	}
	known := simulate.Scenarios()
	if o.Agents {
		if o.SecretRatio > 0 {
			return fmt.Errorf("--secret-ratio: not with --agents (it rewrites extension spans into HTTP calls)")
		}
		ao := o.agentOptions()
		if err := ao.Validate(); err != nil {
			return fmt.Errorf("--agents: %w", err)
		}
		known = simulate.AgentScenarios()
		if slices.Contains(o.Scenarios, "all") || (len(o.Scenarios) > 0 && slices.Equal(o.Scenarios, simulate.Scenarios())) {
			o.Scenarios = known
		}
	}
	for _, s := range o.Scenarios {
		if !slices.Contains(known, s) {
			return fmt.Errorf("--scenario %q: known scenarios are %s", s, strings.Join(known, ", "))
		}
	}
	if !(o.Noise >= 0 && o.Noise <= simulate.MaxNoise) {
		return fmt.Errorf("--noise %v: must be between 0 and %g", o.Noise, simulate.MaxNoise)
	}
	if o.SecretRatio < 0 || o.SecretRatio > 1 {
		return fmt.Errorf("--secret-ratio %v: use a fraction from 0 to 1 (0.33 = a third of the spans)", o.SecretRatio)
	}
	if o.CycleCalls < 0 {
		return fmt.Errorf("--cycle-calls %d: must not be negative", o.CycleCalls)
	}
	if o.HighRate && (o.BatchSpans <= 0 || o.Batches <= 0) {
		return fmt.Errorf("--batch-spans and --batches must be positive")
	}
	return nil
}
