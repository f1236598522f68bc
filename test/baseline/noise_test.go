package baseline

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sandwatch/sandwatch/test/testutil"
)

// `sandwatchctl simulate --noise` through the real binary: retries,
// pagination, rotating CDN and regional hosts, slow runs raise nothing
// after learning, and the attacks novelty cannot see are still found.
func TestNoisyTrafficEndToEnd(t *testing.T) {
	s := newSink(t)
	_, port := start(t, s, "")
	truthFile := filepath.Join(t.TempDir(), "truth.jsonl")
	simulate(t, port, "--learn", "100", "--noise", "--duration", "5s", "--rate", "40",
		"--scenario", "egress-volume,exfiltration-split", "--attack-after", "1s", "--truth", truthFile)
	injected := readTruth(t, truthFile)
	require.NotEmpty(t, injected)
	isAttack := map[string]bool{}
	for _, in := range injected {
		isAttack[in.TraceID] = true
		for _, r := range in.Related {
			isAttack[r] = true
		}
	}
	testutil.Eventually(t, 15*time.Second, func() bool {
		for _, in := range injected {
			found := false
			for _, a := range s.all() {
				found = found || (a.typ == in.Anomaly && a.trace == in.TraceID && a.ext == in.ExtensionID)
			}
			if !found {
				return false
			}
		}
		return true
	}, "not every injected attack was reported: truth %v, got %v", injected, s.all())
	time.Sleep(2 * time.Second) // idle_timeout 1s: stragglers judged
	var benign []anomaly
	for _, a := range s.all() {
		if !isAttack[a.trace] {
			benign = append(benign, a)
		}
	}
	require.Empty(t, benign, "anomalies on noisy benign traces")
	t.Logf("%d attacks injected, %d anomaly records", len(injected), len(s.all()))
}
