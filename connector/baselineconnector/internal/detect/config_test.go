package detect

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSeverityValidate(t *testing.T) {
	for _, tc := range []struct {
		sev Severity
		ok  bool
	}{
		{SeverityInfo, true},
		{SeverityWarn, true},
		{SeverityError, true},
		{SeverityCritical, true},
		{"", false},
		{"WARN", false},
		{"fatal", false},
	} {
		t.Run(string(tc.sev), func(t *testing.T) {
			err := tc.sev.Validate()
			if tc.ok {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), `severity "`+string(tc.sev)+`"`)
			assert.Contains(t, err.Error(), "info, warn, error or critical")
		})
	}
}

func TestDefaultDetectorsValidate(t *testing.T) {
	d := DefaultDetectors()
	require.NoError(t, d.Validate())
	// Every detector is on by default.
	assert.True(t, d.NewDestination.Enabled && d.NewPath.Enabled && d.NewTable.Enabled && d.NewCapability.Enabled &&
		d.VolumeSpike.Enabled && d.DurationOutlier.Enabled && d.Exfiltration.Enabled && d.Recon.Enabled && d.CapabilityDenied.Enabled)
	assert.Equal(t, SeverityCritical, d.Exfiltration.Severity)
}

func TestDetectorsValidateNamesField(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Detectors)
		want   []string // substrings of the error
	}{
		{"new_destination severity", func(d *Detectors) { d.NewDestination.Severity = "loud" }, []string{`detectors.new_destination.severity "loud"`}},
		{"new_path severity", func(d *Detectors) { d.NewPath.Severity = "" }, []string{`detectors.new_path.severity ""`}},
		{"new_table severity", func(d *Detectors) { d.NewTable.Severity = "x" }, []string{`detectors.new_table.severity "x"`}},
		{"new_capability severity", func(d *Detectors) { d.NewCapability.Severity = "x" }, []string{`detectors.new_capability.severity`}},
		{"volume_spike severity", func(d *Detectors) { d.VolumeSpike.Severity = "x" }, []string{`detectors.volume_spike.severity`}},
		{"duration_outlier severity", func(d *Detectors) { d.DurationOutlier.Severity = "x" }, []string{`detectors.duration_outlier.severity`}},
		{"exfiltration severity", func(d *Detectors) { d.Exfiltration.Severity = "x" }, []string{`detectors.exfiltration.severity`}},
		{"recon severity", func(d *Detectors) { d.Recon.Severity = "x" }, []string{`detectors.recon.severity`}},
		{"capability_denied severity", func(d *Detectors) { d.CapabilityDenied.Severity = "x" }, []string{`detectors.capability_denied.severity`}},
		// A disabled detector still needs a valid severity.
		{"disabled still checked", func(d *Detectors) { d.NewPath = Toggle{} }, []string{`detectors.new_path.severity`}},
		{"volume_spike sigma", func(d *Detectors) { d.VolumeSpike.Sigma = 0 }, []string{"detectors.volume_spike:", "sigma > 0", "(got 0, 3, 2, 0.5)"}},
		{"volume_spike min_ratio", func(d *Detectors) { d.VolumeSpike.MinRatio = 0.5 }, []string{"detectors.volume_spike:", "min_ratio >= 1", "(got 8, 0.5, 2, 0.5)"}},
		{"volume_spike floor_abs", func(d *Detectors) { d.VolumeSpike.FloorAbs = 0 }, []string{"detectors.volume_spike:", "floor_abs > 0", "(got 8, 3, 0, 0.5)"}},
		{"volume_spike floor_rel", func(d *Detectors) { d.VolumeSpike.FloorRel = -1 }, []string{"detectors.volume_spike:", "floor_rel >= 0", "(got 8, 3, 2, -1)"}},
		{"duration_outlier sigma", func(d *Detectors) { d.DurationOutlier.Sigma = -1 }, []string{"detectors.duration_outlier:", "(got -1, 3, 25, 0.5)"}},
		{"duration_outlier floor_abs", func(d *Detectors) { d.DurationOutlier.FloorAbs = 0 }, []string{"detectors.duration_outlier:", "(got 8, 3, 0, 0.5)"}},
		{"recon min_probes", func(d *Detectors) { d.Recon.MinProbes = 0 }, []string{"detectors.recon:", "min_probes"}},
		{"recon window_probes", func(d *Detectors) { d.Recon.WindowProbes = 0 }, []string{"detectors.recon:", "window_probes"}},
		{"recon window", func(d *Detectors) { d.Recon.Window = 0 }, []string{"detectors.recon:", "window"}},
		{"recon negative window", func(d *Detectors) { d.Recon.Window = -time.Second }, []string{"detectors.recon:"}},
		{"recon sigma", func(d *Detectors) { d.Recon.Sigma = 0 }, []string{"detectors.recon:", "sigma"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := DefaultDetectors()
			tc.mutate(&d)
			err := d.Validate()
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// Every problem is reported, not only the first.
func TestDetectorsValidateJoinsErrors(t *testing.T) {
	d := DefaultDetectors()
	d.NewPath.Severity = "x"
	d.Exfiltration.Severity = "y"
	d.VolumeSpike.Sigma = 0
	d.DurationOutlier.MinRatio = 0
	d.Recon.Window = 0
	err := d.Validate()
	require.Error(t, err)
	for _, w := range []string{"detectors.new_path.", "detectors.exfiltration.", "detectors.volume_spike:", "detectors.duration_outlier:", "detectors.recon:"} {
		assert.Contains(t, err.Error(), w)
	}
}
