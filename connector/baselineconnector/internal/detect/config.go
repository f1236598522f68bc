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

// Validate accepts the four severities.
func (s Severity) Validate() error {
	switch s {
	case SeverityInfo, SeverityWarn, SeverityError, SeverityCritical:
		return nil
	}
	return fmt.Errorf("severity %q: use info, warn, error or critical", string(s))
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
// within Window for one extension across invocations. After learning,
// the per-invocation threshold rises to the learned probe rate + Sigma
// scales when that is higher.
type ReconDetector struct {
	Enabled      bool          `mapstructure:"enabled"`
	Severity     Severity      `mapstructure:"severity"`
	MinProbes    uint32        `mapstructure:"min_probes"`
	Window       time.Duration `mapstructure:"window"`
	WindowProbes uint32        `mapstructure:"window_probes"`
	Sigma        float64       `mapstructure:"sigma"`
}

// Detectors configures every built-in detector.
type Detectors struct {
	NewDestination   Toggle        `mapstructure:"new_destination"`
	NewPath          Toggle        `mapstructure:"new_path"`
	NewTable         Toggle        `mapstructure:"new_table"`
	NewCapability    Toggle        `mapstructure:"new_capability"`
	VolumeSpike      StatDetector  `mapstructure:"volume_spike"`
	DurationOutlier  StatDetector  `mapstructure:"duration_outlier"`
	Exfiltration     Toggle        `mapstructure:"exfiltration"`
	Recon            ReconDetector `mapstructure:"recon"`
	CapabilityDenied Toggle        `mapstructure:"capability_denied"`
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
		Exfiltration:     Toggle{true, SeverityCritical},
		Recon:            ReconDetector{Enabled: true, Severity: SeverityError, MinProbes: 5, Window: 10 * time.Second, WindowProbes: 10, Sigma: 6},
		CapabilityDenied: Toggle{true, SeverityWarn},
	}
}

// Validate checks every detector; errors name the field.
func (d *Detectors) Validate() error {
	var errs []error
	for name, s := range map[string]Severity{
		"new_destination": d.NewDestination.Severity, "new_path": d.NewPath.Severity, "new_table": d.NewTable.Severity,
		"new_capability": d.NewCapability.Severity, "volume_spike": d.VolumeSpike.Severity, "duration_outlier": d.DurationOutlier.Severity,
		"exfiltration": d.Exfiltration.Severity, "recon": d.Recon.Severity, "capability_denied": d.CapabilityDenied.Severity,
	} {
		if err := s.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("detectors.%s.%w", name, err))
		}
	}
	for name, s := range map[string]StatDetector{"volume_spike": d.VolumeSpike, "duration_outlier": d.DurationOutlier} {
		if s.Sigma <= 0 || s.MinRatio < 1 || s.FloorAbs <= 0 || s.FloorRel < 0 {
			errs = append(errs, fmt.Errorf("detectors.%s: need sigma > 0, min_ratio >= 1, floor_abs > 0, floor_rel >= 0 (got %g, %g, %g, %g)",
				name, s.Sigma, s.MinRatio, s.FloorAbs, s.FloorRel))
		}
	}
	if d.Recon.MinProbes == 0 || d.Recon.WindowProbes == 0 || d.Recon.Window <= 0 || d.Recon.Sigma <= 0 {
		errs = append(errs, errors.New("detectors.recon: min_probes, window_probes, window and sigma must be positive"))
	}
	return errors.Join(errs...)
}
