package detect

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSeverityCheck(t *testing.T) {
	for _, tc := range []struct {
		sev  Severity
		want string // "" when valid
	}{
		{SeverityInfo, ""},
		{SeverityWarn, ""},
		{SeverityError, ""},
		{SeverityCritical, ""},
		{"", `severity: must be info, warn, error or critical (got "")`},
		{"WARN", `severity: must be info, warn, error or critical (got "WARN")`},
		{"fatal", `severity: must be info, warn, error or critical (got "fatal")`},
	} {
		t.Run(string(tc.sev), func(t *testing.T) {
			err := tc.sev.Check()
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			assert.EqualError(t, err, tc.want)
		})
	}
}

func TestDefaultDetectorsValidate(t *testing.T) {
	d := DefaultDetectors()
	require.NoError(t, d.Check())
	// Every detector is on by default.
	assert.True(t, d.NewDestination.Enabled && d.NewPath.Enabled && d.NewTable.Enabled && d.NewCapability.Enabled &&
		d.VolumeSpike.Enabled && d.DurationOutlier.Enabled && d.Exfiltration.Enabled && d.Recon.Enabled && d.CapabilityDenied.Enabled)
	assert.Equal(t, SeverityCritical, d.Exfiltration.Severity)
}

// Each bad setting is reported by its full key and value.
func TestDetectorsCheckNamesField(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Detectors)
		want   string
	}{
		{"new_destination severity", func(d *Detectors) { d.NewDestination.Severity = "loud" },
			`detectors.new_destination.severity: must be info, warn, error or critical (got "loud")`},
		{"new_path severity", func(d *Detectors) { d.NewPath.Severity = "" },
			`detectors.new_path.severity: must be info, warn, error or critical (got "")`},
		{"new_table severity", func(d *Detectors) { d.NewTable.Severity = "x" },
			`detectors.new_table.severity: must be info, warn, error or critical (got "x")`},
		{"new_capability severity", func(d *Detectors) { d.NewCapability.Severity = "x" },
			`detectors.new_capability.severity: must be info, warn, error or critical (got "x")`},
		{"volume_spike severity", func(d *Detectors) { d.VolumeSpike.Severity = "x" },
			`detectors.volume_spike.severity: must be info, warn, error or critical (got "x")`},
		{"duration_outlier severity", func(d *Detectors) { d.DurationOutlier.Severity = "x" },
			`detectors.duration_outlier.severity: must be info, warn, error or critical (got "x")`},
		{"exfiltration severity", func(d *Detectors) { d.Exfiltration.Severity = "x" },
			`detectors.exfiltration.severity: must be info, warn, error or critical (got "x")`},
		{"recon severity", func(d *Detectors) { d.Recon.Severity = "x" },
			`detectors.recon.severity: must be info, warn, error or critical (got "x")`},
		{"capability_denied severity", func(d *Detectors) { d.CapabilityDenied.Severity = "x" },
			`detectors.capability_denied.severity: must be info, warn, error or critical (got "x")`},
		// A disabled detector still needs a valid severity.
		{"disabled still checked", func(d *Detectors) { d.NewPath = Toggle{} },
			`detectors.new_path.severity: must be info, warn, error or critical (got "")`},
		{"volume_spike sigma", func(d *Detectors) { d.VolumeSpike.Sigma = 0 }, "detectors.volume_spike.sigma: must be positive (got 0)"},
		{"volume_spike min_ratio", func(d *Detectors) { d.VolumeSpike.MinRatio = 0.5 }, "detectors.volume_spike.min_ratio: must be >= 1 (got 0.5)"},
		{"volume_spike floor_abs", func(d *Detectors) { d.VolumeSpike.FloorAbs = 0 }, "detectors.volume_spike.floor_abs: must be positive (got 0)"},
		{"volume_spike floor_rel", func(d *Detectors) { d.VolumeSpike.FloorRel = -1 }, "detectors.volume_spike.floor_rel: must be >= 0 (got -1)"},
		{"duration_outlier sigma", func(d *Detectors) { d.DurationOutlier.Sigma = -1 }, "detectors.duration_outlier.sigma: must be positive (got -1)"},
		{"duration_outlier floor_abs", func(d *Detectors) { d.DurationOutlier.FloorAbs = 0 }, "detectors.duration_outlier.floor_abs: must be positive (got 0)"},
		// YAML accepts .nan; it must not pass as a threshold.
		{"NaN sigma", func(d *Detectors) { d.DurationOutlier.Sigma = math.NaN() }, "detectors.duration_outlier.sigma: must be positive (got NaN)"},
		{"NaN min_ratio", func(d *Detectors) { d.VolumeSpike.MinRatio = math.NaN() }, "detectors.volume_spike.min_ratio: must be >= 1 (got NaN)"},
		{"recon min_probes", func(d *Detectors) { d.Recon.MinProbes = 0 }, "detectors.recon.min_probes: must be positive (got 0)"},
		{"recon window", func(d *Detectors) { d.Recon.Window = 0 }, "detectors.recon.window: must be positive (got 0s)"},
		{"recon negative window", func(d *Detectors) { d.Recon.Window = -time.Second }, "detectors.recon.window: must be positive (got -1s)"},
		{"recon window_probes", func(d *Detectors) { d.Recon.WindowProbes = 0 }, "detectors.recon.window_probes: must be positive (got 0)"},
		{"recon sigma", func(d *Detectors) { d.Recon.Sigma = 0 }, "detectors.recon.sigma: must be positive (got 0)"},
		{"exfiltration horizon", func(d *Detectors) { d.Exfiltration.Horizon = 0 }, "detectors.exfiltration.horizon: must be a positive duration such as 1h (got 0s)"},
		{"exfiltration max_reads", func(d *Detectors) { d.Exfiltration.MaxReads = 0 }, "detectors.exfiltration.max_reads: must be between 1 and 1024 (got 0)"},
		{"egress_volume severity", func(d *Detectors) { d.EgressVolume.Severity = "x" },
			`detectors.egress_volume.severity: must be info, warn, error or critical (got "x")`},
		{"egress_volume floor_abs", func(d *Detectors) { d.EgressVolume.FloorAbs = 0 }, "detectors.egress_volume.floor_abs: must be positive (got 0)"},
		{"egress_volume window", func(d *Detectors) { d.EgressVolume.Window = time.Millisecond }, "detectors.egress_volume.window: must be at least 1s (default 1m) (got 1ms)"},
		{"unreported_access severity", func(d *Detectors) { d.UnreportedAccess.Severity = "x" },
			`detectors.unreported_access.severity: must be info, warn, error or critical (got "x")`},
		{"unreported_access delay", func(d *Detectors) { d.UnreportedAccess.Delay = time.Hour }, "detectors.unreported_access.delay: must be between 0 and 5m (got 1h0m0s)"},
		{"unreported_access steady", func(d *Detectors) { d.UnreportedAccess.Steady = 0 }, "detectors.unreported_access.steady: must be at least 1 (got 0)"},
		{"unreported_access max_pending", func(d *Detectors) { d.UnreportedAccess.MaxPending = 0 }, "detectors.unreported_access.max_pending: must be at least 1 (got 0)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := DefaultDetectors()
			tc.mutate(&d)
			assert.EqualError(t, d.Check(), tc.want)
		})
	}
}

// Every problem is reported, one a line, in the order of the
// configuration (detectors, then their fields), the same every time.
func TestDetectorsCheckJoinsErrorsInOrder(t *testing.T) {
	d := DefaultDetectors()
	d.CapabilityDenied.Severity = "z"
	d.Recon = ReconDetector{Severity: "y"}
	d.DurationOutlier.MinRatio = 0
	d.VolumeSpike = StatDetector{Severity: SeverityWarn, Sigma: 0, MinRatio: 0.5, FloorAbs: -2, FloorRel: -0.5}
	d.NewPath.Severity = "x"
	want := strings.Join([]string{
		`detectors.new_path.severity: must be info, warn, error or critical (got "x")`,
		"detectors.volume_spike.sigma: must be positive (got 0)",
		"detectors.volume_spike.min_ratio: must be >= 1 (got 0.5)",
		"detectors.volume_spike.floor_abs: must be positive (got -2)",
		"detectors.volume_spike.floor_rel: must be >= 0 (got -0.5)",
		"detectors.duration_outlier.min_ratio: must be >= 1 (got 0)",
		`detectors.recon.severity: must be info, warn, error or critical (got "y")`,
		"detectors.recon.min_probes: must be positive (got 0)",
		"detectors.recon.window: must be positive (got 0s)",
		"detectors.recon.window_probes: must be positive (got 0)",
		"detectors.recon.sigma: must be positive (got 0)",
		`detectors.capability_denied.severity: must be info, warn, error or critical (got "z")`,
	}, "\n")
	for range 20 { // map iteration would reorder some of these runs
		assert.EqualError(t, d.Check(), want)
	}
}

func TestSensitiveCheck(t *testing.T) {
	require.NoError(t, DefaultSensitive().Check())
	assert.EqualError(t, SensitiveConfig{Paths: []string{"/etc/[x"}}.Check(), `sensitive.paths: pattern "/etc/[x": unexpected end of input`)
	assert.EqualError(t, SensitiveConfig{Addresses: []string{" "}}.Check(), "sensitive.addresses: empty address")
	s, err := DefaultSensitive().compile()
	require.NoError(t, err)
	for p, want := range map[string]bool{
		"/etc/shadow": true, "/home/agent/.ssh/id_rsa": true, "/proc/*/environ": true, "/root/.bashrc": true,
		"/home/*/.aws/credentials": true, "/app/db.sqlite": false, "/etc/passwd": false, "/workspace/notes-*.json": false,
	} {
		assert.Equal(t, want, s.path(p), p)
	}
	assert.True(t, s.addr("169.254.169.254"))
	assert.True(t, s.addr("Metadata.Google.Internal"))
	assert.False(t, s.addr("api.example.com"))
}
