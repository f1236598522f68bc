package soak

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sandwatch/sandwatch/test/testutil"
)

// anomalyLatency injects one capability-denied attack with sandwatchctl
// simulate and measures how long until the anomaly event for its trace
// appears in the collector's anomaly output (debug/anomalies on stdout).
func anomalyLatency(t *testing.T, ctx context.Context, d *defaultCollector) time.Duration {
	t.Helper()
	truth := filepath.Join(t.TempDir(), "truth.jsonl")
	start := time.Now()
	out, err := testutil.RunCtl(t, ctx, "simulate", "--endpoint", d.grpc, "--duration", "200ms", "--rate", "20",
		"--extensions", "5", "--scenario", "capability-denied", "--truth", truth)
	require.NoError(t, err, out)
	traceID := truthTraceID(t, truth)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(d.Output(), "Trace ID: "+traceID) {
			return time.Since(start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no anomaly event for trace %s within 30s", traceID)
	return 0
}

func truthTraceID(t *testing.T, path string) string {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, `"trace_id":"`); i >= 0 {
			rest := line[i+len(`"trace_id":"`):]
			return rest[:strings.IndexByte(rest, '"')]
		}
	}
	t.Fatal("no injected attack in the ground truth")
	return ""
}
