package baselineconnector

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"go.opentelemetry.io/collector/component"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/detect"
	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/profile"
	"github.com/sandwatch/sandwatch/internal/pathtemplate"
	"github.com/sandwatch/sandwatch/internal/sandboxevent"
)

// Config of the baseline connector. Every field has a working default:
// `baseline:` alone learns each extension for 100 invocations (or 24h)
// and then detects.
type Config struct {
	EventModel sandboxevent.Config `mapstructure:"event_model"`
	// Learning: an extension is learned for LearnInvocations completed
	// invocations or LearnWindow since it was first seen, whichever ends first.
	LearnInvocations uint64        `mapstructure:"learn_invocations"`
	LearnWindow      time.Duration `mapstructure:"learn_window"`
	// MinSamples invocations before volume and duration are judged.
	MinSamples uint32 `mapstructure:"min_samples"`
	// HalfLife of the per-invocation statistics, in invocations.
	HalfLife float64 `mapstructure:"half_life"`
	// Bounds.
	MaxExtensions int         `mapstructure:"max_extensions"`
	MaxTargets    TargetLimit `mapstructure:"max_targets"`
	MaxTraces     int         `mapstructure:"max_traces"`
	// An invocation is judged when its root span arrives, or when its
	// trace has been idle for IdleTimeout; per-trace state (exfiltration)
	// lives TraceTTL after the trace's last span.
	IdleTimeout time.Duration `mapstructure:"idle_timeout"`
	TraceTTL    time.Duration `mapstructure:"trace_ttl"`
	// Dedup: one record per (extension, type, target) per DedupInterval,
	// then a summary with the count; 0 reports every occurrence.
	DedupInterval time.Duration `mapstructure:"dedup_interval"`
	// PathTemplates are glob templates applied before the heuristic.
	PathTemplates []string `mapstructure:"path_templates"`
	// TemplateHosts judges hosts on templates: labels with digits left of
	// the registrable domain become "*" (rotating CDN, regional and
	// numbered hosts).
	TemplateHosts bool `mapstructure:"template_hosts"`
	// VersionRelearn invocations after an extension reports a new version
	// learn new targets quietly (0 = never).
	VersionRelearn uint32 `mapstructure:"version_relearn"`
	// Sensitive paths and addresses (exfiltration across invocations,
	// unreported_access). Setting a list replaces its defaults.
	Sensitive detect.SensitiveConfig `mapstructure:"sensitive"`
	// Profiles declared per extension id.
	Profiles  map[string]profile.DeclaredSpec `mapstructure:"profiles"`
	Detectors detect.Detectors                `mapstructure:"detectors"`
	Rules     []RuleConfig                    `mapstructure:"rules"`
	// Storage is the id of a storage extension (file_storage) the
	// profiles are saved to every SaveInterval and on shutdown.
	Storage      *component.ID `mapstructure:"storage"`
	SaveInterval time.Duration `mapstructure:"save_interval"`
	// SharedStore keeps the profiles in an object store shared by gateway
	// replicas instead (see shared_config.go); also saved every SaveInterval.
	SharedStore *SharedStoreConfig `mapstructure:"shared_store"`
	// MetricsInterval between emissions on the metrics pipeline.
	MetricsInterval time.Duration `mapstructure:"metrics_interval"`
	// MaxAnomalySeries caps (extension, type, severity) series; beyond it
	// extension is reported as "_other".
	MaxAnomalySeries int `mapstructure:"max_anomaly_series"`
	// DedupMaxFolded traces of folded repeats a dedup summary lists.
	DedupMaxFolded int `mapstructure:"dedup_max_folded"`
	// Agents bound the state of agents that chain tools (config_agents.go).
	Agents AgentsConfig `mapstructure:"agents"`
}

// TargetLimit is the exact targets kept per class; beyond it a Bloom
// summary remembers membership.
type TargetLimit struct {
	Hosts        int `mapstructure:"hosts"`
	Paths        int `mapstructure:"paths"`
	Tables       int `mapstructure:"tables"`
	Capabilities int `mapstructure:"capabilities"`
	Libraries    int `mapstructure:"libraries"`
}

// RuleConfig is a user rule: an OTTL condition on spans or log records.
type RuleConfig struct {
	Name      string          `mapstructure:"name"`
	Context   string          `mapstructure:"context"` // span (default) or log
	Condition string          `mapstructure:"condition"`
	Severity  detect.Severity `mapstructure:"severity"`
}

func createDefaultConfig() component.Config {
	l := profile.DefaultLimits().MaxTargets
	return &Config{
		LearnInvocations: 100,
		LearnWindow:      24 * time.Hour,
		MinSamples:       20,
		HalfLife:         200,
		MaxExtensions:    10000,
		MaxTargets:       TargetLimit{l[0], l[1], l[2], l[3], l[4]},
		MaxTraces:        100000,
		IdleTimeout:      2 * time.Second,
		TraceTTL:         time.Minute,
		DedupInterval:    5 * time.Minute,
		Detectors:        detect.DefaultDetectors(),
		TemplateHosts:    true,
		VersionRelearn:   20,
		Sensitive:        detect.DefaultSensitive(),
		SaveInterval:     time.Minute,
		MetricsInterval:  10 * time.Second,
		MaxAnomalySeries: 10000,
		DedupMaxFolded:   detect.DefaultMaxFolded,
		Agents:           defaultAgentsConfig(),
	}
}

func (l TargetLimit) limits() profile.Limits {
	return profile.Limits{MaxTargets: [profile.NumClasses]int{l.Hosts, l.Paths, l.Tables, l.Capabilities, l.Libraries}}
}

// Validate rejects unusable settings with the field and the fix.
func (c *Config) Validate() error {
	var errs []error
	if err := c.EventModel.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("event_model: %w", err))
	}
	positive := func(name string, ok bool, fix string) {
		if !ok {
			errs = append(errs, fmt.Errorf("%s: %s", name, fix))
		}
	}
	positive("learn_invocations", c.LearnInvocations > 0, "must be at least 1 (default 100)")
	positive("learn_window", c.LearnWindow > 0, "must be a positive duration such as 24h")
	positive("min_samples", c.MinSamples > 0, "must be at least 1 (default 20)")
	positive("half_life", c.HalfLife > 0, "must be a positive number of invocations (default 200)")
	positive("max_extensions", c.MaxExtensions > 0, "must be at least 1 (default 10000)")
	positive("max_traces", c.MaxTraces > 0, "must be at least 1 (default 100000)")
	positive("idle_timeout", c.IdleTimeout > 0 && c.IdleTimeout <= 30*time.Second, "must be between 1ms and 30s (default 2s): detection waits for it")
	positive("trace_ttl", c.TraceTTL >= c.IdleTimeout, "must be at least idle_timeout (default 1m)")
	positive("dedup_interval", c.DedupInterval >= 0, "must be 0 (no dedup) or a positive duration")
	positive("save_interval", c.SaveInterval > 0, "must be a positive duration such as 1m")
	positive("metrics_interval", c.MetricsInterval > 0, "must be a positive duration such as 10s")
	positive("max_anomaly_series", c.MaxAnomalySeries > 0, "must be at least 1")
	positive("dedup_max_folded", c.DedupMaxFolded >= 1 && c.DedupMaxFolded <= 1024, "must be between 1 and 1024 (default 32)")
	if err := c.Agents.validate(); err != nil {
		errs = append(errs, err)
	}
	for i, n := range c.MaxTargets.limits().MaxTargets {
		positive("max_targets."+profile.Class(i).String(), n > 0 && n <= 4096, "must be between 1 and 4096")
	}
	if _, err := pathtemplate.New(pathtemplate.Options{Templates: c.PathTemplates}); err != nil {
		errs = append(errs, fmt.Errorf("path_templates: %w", err))
	}
	for _, id := range slices.Sorted(maps.Keys(c.Profiles)) { // a stable message
		spec := c.Profiles[id]
		if _, err := spec.Compile(); err != nil {
			errs = append(errs, fmt.Errorf("profiles[%s].%w", id, err))
		}
	}
	// Check errors carry their full key (detectors.recon.window_probes), so
	// they are not wrapped again.
	if err := c.Detectors.Check(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Sensitive.Check(); err != nil {
		errs = append(errs, err)
	}
	seen := map[string]bool{}
	for i, r := range c.Rules {
		if err := r.validate(); err != nil {
			errs = append(errs, fmt.Errorf("rules[%d]: %w", i, err))
		}
		if seen[r.Name] {
			errs = append(errs, fmt.Errorf("rules[%d]: duplicate name %q", i, r.Name))
		}
		seen[r.Name] = true
	}
	if err := c.validateSharedStore(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
