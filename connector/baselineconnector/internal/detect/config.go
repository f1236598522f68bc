// Package detect holds the baseline connector's detectors: it feeds
// classified sandbox events into per-extension profiles and per-trace
// invocation state and returns anomalies. It is pure (no pdata beyond
// the classified event, no collector plumbing) and not safe for
// concurrent use: the connector serialises calls.
package detect

import (
	"errors"
	"fmt"
	"time"
)

// Severity of an anomaly.
type Severity string

const (
	SeverityInfo     Severity = "info"
	SeverityWarn     Severity = "warn"
	SeverityError    Severity = "error"
	SeverityCritical Severity = "critical"
)

// Check accepts the four severities. The config checks of this package
// are not named Validate on purpose: the collector calls Validate on
// every nested config struct and field by itself, which would report
// each problem again under a second path, and would reject a rule's empty
// severity before its default (warn) applies. The connector's
// Config.Validate calls them instead.
func (s Severity) Check() error {
	switch s {
	case SeverityInfo, SeverityWarn, SeverityError, SeverityCritical:
		return nil
	}
	return fmt.Errorf("severity: must be info, warn, error or critical (got %q)", string(s))
}

// Anomaly types.
const (
	TypeNewDestination   = "new_destination"
	TypeNewPath          = "new_path"
	TypeNewTable         = "new_table"
	TypeNewCapability    = "new_capability"
	TypeVolumeSpike      = "volume_spike"
	TypeExfiltration     = "exfiltration"
	TypeRecon            = "recon"
	TypeDurationOutlier  = "duration_outlier"
	TypeCapabilityDenied = "capability_denied"
	TypeEgressVolume     = "egress_volume"
	TypeUnreportedAccess = "unreported_access"
)

// Toggle is a detector that is on or off, with a severity.
type Toggle struct {
	Enabled  bool     `mapstructure:"enabled"`
	Severity Severity `mapstructure:"severity"`
}

// StatDetector judges a per-invocation quantity against its baseline:
// anomalous when it is at least Sigma scales above the mean (the scale
// is 1.25 x the mean absolute deviation, floored by FloorAbs and by
// FloorRel x mean) and at least MinRatio x max(mean, 1).
type StatDetector struct {
	Enabled  bool     `mapstructure:"enabled"`
	Severity Severity `mapstructure:"severity"`
	Sigma    float64  `mapstructure:"sigma"`
	MinRatio float64  `mapstructure:"min_ratio"`
	FloorAbs float64  `mapstructure:"floor_abs"`
	FloorRel float64  `mapstructure:"floor_rel"`
}

// ReconDetector fires on MinProbes failed attempts (EACCES, EPERM,
// ENOENT, 401/403/404, denials) in one invocation, or WindowProbes
// within Window for one extension across invocations. MinProbes stays
// the per-invocation threshold after learning; only an extension that
// habitually fails some attempts raises it, to its learned probe rate +
// Sigma scales (1.25 x the mean absolute deviation, at least 0.5 x the
// mean, with no absolute floor), so a clean extension keeps MinProbes.
type ReconDetector struct {
	Enabled      bool          `mapstructure:"enabled"`
	Severity     Severity      `mapstructure:"severity"`
	MinProbes    uint32        `mapstructure:"min_probes"`
	Window       time.Duration `mapstructure:"window"`
	WindowProbes uint32        `mapstructure:"window_probes"`
	Sigma        float64       `mapstructure:"sigma"`
}

// ExfiltrationDetector fires on a read followed by egress to a host
// outside the profile: within one trace, or across invocations within
// Horizon when the read was of a sensitive path or of a path template
// never seen before. Each extension remembers its MaxReads most recent
// such reads (not persisted: the horizon is short).
type ExfiltrationDetector struct {
	Enabled  bool          `mapstructure:"enabled"`
	Severity Severity      `mapstructure:"severity"`
	Horizon  time.Duration `mapstructure:"horizon"`
	MaxReads int           `mapstructure:"max_reads"`
}

// EgressVolumeDetector judges bytes sent per invocation and per extension
// per Window, against learned statistics (the StatDetector test, with
// FloorAbs in bytes) and against the declared profile caps
// max_egress_bytes_per_invocation and max_egress_bytes_per_minute.
type EgressVolumeDetector struct {
	StatDetector `mapstructure:",squash"`
	Window       time.Duration `mapstructure:"window"`
}

// Detectors configures every built-in detector.
type Detectors struct {
	NewDestination   Toggle               `mapstructure:"new_destination"`
	NewPath          Toggle               `mapstructure:"new_path"`
	NewTable         Toggle               `mapstructure:"new_table"`
	NewCapability    Toggle               `mapstructure:"new_capability"`
	VolumeSpike      StatDetector         `mapstructure:"volume_spike"`
	DurationOutlier  StatDetector         `mapstructure:"duration_outlier"`
	Exfiltration     ExfiltrationDetector `mapstructure:"exfiltration"`
	Recon            ReconDetector        `mapstructure:"recon"`
	CapabilityDenied Toggle               `mapstructure:"capability_denied"`
	EgressVolume     EgressVolumeDetector `mapstructure:"egress_volume"`
	UnreportedAccess UnreportedDetector   `mapstructure:"unreported_access"`
	// Agents that chain tools (agent_config.go).
	AgentDetectors `mapstructure:",squash"`
}

// DefaultDetectors are tuned for well under 1 false positive per 10,000
// benign invocations after learning on realistic workloads.
func DefaultDetectors() Detectors {
	return Detectors{
		NewDestination:   Toggle{true, SeverityWarn},
		NewPath:          Toggle{true, SeverityInfo},
		NewTable:         Toggle{true, SeverityInfo},
		NewCapability:    Toggle{true, SeverityWarn},
		VolumeSpike:      StatDetector{Enabled: true, Severity: SeverityWarn, Sigma: 8, MinRatio: 3, FloorAbs: 2, FloorRel: 0.5},
		DurationOutlier:  StatDetector{Enabled: true, Severity: SeverityWarn, Sigma: 8, MinRatio: 3, FloorAbs: 25, FloorRel: 0.5},
		Exfiltration:     ExfiltrationDetector{Enabled: true, Severity: SeverityCritical, Horizon: time.Hour, MaxReads: 8},
		Recon:            ReconDetector{Enabled: true, Severity: SeverityError, MinProbes: 5, Window: 10 * time.Second, WindowProbes: 10, Sigma: 6},
		CapabilityDenied: Toggle{true, SeverityWarn},
		EgressVolume: EgressVolumeDetector{StatDetector: StatDetector{Enabled: true, Severity: SeverityError, Sigma: 8, MinRatio: 3, FloorAbs: 1 << 20, FloorRel: 0.5},
			Window: time.Minute},
		UnreportedAccess: DefaultUnreported(),
		AgentDetectors:   DefaultAgentDetectors(),
	}
}

// Check reports every unusable setting by its full key and value, one
// error a line, in the order of the configuration so the message is the
// same from run to run.
func (d *Detectors) Check() error {
	return errors.Join(
		d.NewDestination.check("new_destination"),
		d.NewPath.check("new_path"),
		d.NewTable.check("new_table"),
		d.NewCapability.check("new_capability"),
		d.VolumeSpike.check("volume_spike"),
		d.DurationOutlier.check("duration_outlier"),
		d.Exfiltration.check("exfiltration"),
		d.Recon.check("recon"),
		d.CapabilityDenied.check("capability_denied"),
		d.EgressVolume.check("egress_volume"),
		d.UnreportedAccess.check("unreported_access"),
		d.AgentDetectors.check(),
	)
}

func (t Toggle) check(name string) error { return checkFields(name, t.Severity) }

func (s StatDetector) check(name string) error {
	return checkFields(name, s.Severity,
		field{"sigma", s.Sigma > 0, "positive", s.Sigma},
		field{"min_ratio", s.MinRatio >= 1, ">= 1", s.MinRatio},
		field{"floor_abs", s.FloorAbs > 0, "positive", s.FloorAbs},
		field{"floor_rel", s.FloorRel >= 0, ">= 0", s.FloorRel},
	)
}

func (x ExfiltrationDetector) check(name string) error {
	return checkFields(name, x.Severity,
		field{"horizon", x.Horizon > 0, "a positive duration such as 1h", x.Horizon},
		field{"max_reads", x.MaxReads >= 1 && x.MaxReads <= 1024, "between 1 and 1024", x.MaxReads},
	)
}

func (v EgressVolumeDetector) check(name string) error {
	return errors.Join(v.StatDetector.check(name),
		checkFields(name, SeverityWarn, field{"window", v.Window >= time.Second, "at least 1s (default 1m)", v.Window}))
}

func (r ReconDetector) check(name string) error {
	return checkFields(name, r.Severity,
		field{"min_probes", r.MinProbes > 0, "positive", r.MinProbes},
		field{"window", r.Window > 0, "positive", r.Window},
		field{"window_probes", r.WindowProbes > 0, "positive", r.WindowProbes},
		field{"sigma", r.Sigma > 0, "positive", r.Sigma},
	)
}

// field is one numeric setting of a detector. ok is written as the
// condition the value must meet, so NaN (which YAML accepts) fails it.
type field struct {
	key  string
	ok   bool
	must string
	got  any
}

// checkFields reports the detector's severity, then each field that
// fails, as detectors.<detector>.<key>: must be <must> (got <value>).
func checkFields(detector string, sev Severity, fields ...field) error {
	var errs []error
	if err := sev.Check(); err != nil {
		errs = append(errs, fmt.Errorf("detectors.%s.%w", detector, err))
	}
	for _, f := range fields {
		if !f.ok {
			errs = append(errs, fmt.Errorf("detectors.%s.%s: must be %s (got %v)", detector, f.key, f.must, f.got))
		}
	}
	return errors.Join(errs...)
}
