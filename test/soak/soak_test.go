package soak

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sandwatch/sandwatch/internal/procstat"
	"github.com/sandwatch/sandwatch/test/testutil"
)

// soakDuration is short in `make test`; set SANDWATCH_SOAK_DURATION (e.g.
// 30m) for a real soak.
func soakDuration(t *testing.T) time.Duration {
	if v := os.Getenv("SANDWATCH_SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		require.NoError(t, err, "SANDWATCH_SOAK_DURATION")
		return d
	}
	return 45 * time.Second
}

type loadSummary struct {
	Spans         int64   `json:"spans"`
	Failed        int64   `json:"failed_requests"`
	RejectedSpans int64   `json:"rejected_spans"`
	Seconds       float64 `json:"seconds"`
	LastError     string  `json:"last_error"`
}

func highRate(t *testing.T, ctx context.Context, endpoint string, d time.Duration, spanRate float64) loadSummary {
	t.Helper()
	args := []string{"simulate", "--high-rate", "--json", "--endpoint", endpoint, "--duration", d.String(),
		"--extensions", "200", "--concurrency", "2"}
	if spanRate > 0 {
		args = append(args, "--span-rate", fmt.Sprintf("%.0f", spanRate))
	}
	out, err := testutil.RunCtl(t, ctx, args...)
	require.NoError(t, err, out)
	var s loadSummary
	require.NoError(t, json.Unmarshal([]byte(out), &s), out)
	return s
}

// Sustained load at about half the measured capacity: nothing refused,
// and memory flat after warm-up.
func TestSustainedLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("soak")
	}
	d := startDefault(t, 1024)
	ctx, cancel := context.WithTimeout(context.Background(), soakDuration(t)+3*time.Minute)
	defer cancel()

	idleLatency := anomalyLatency(t, ctx, d)
	probe := highRate(t, ctx, d.grpc, 6*time.Second, 0)
	capacity := float64(probe.Spans) / probe.Seconds
	require.Greater(t, capacity, 1000.0, "capacity probe: %+v", probe)
	rate := capacity / 2
	t.Logf("capacity %.0f spans/s (loaded machine, load generator included); soaking at %.0f spans/s for %s", capacity, rate, soakDuration(t))

	var mu sync.Mutex
	var samples []float64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				cur, _ := procstat.RSSMiB(d.Pid())
				mu.Lock()
				samples = append(samples, cur)
				mu.Unlock()
			}
		}
	}()
	// Half-way through the soak, the time from an attack to its anomaly
	// event must stay what it is on an idle collector (within 2x + 1s, and
	// under the 5 s target).
	var loadedLatency time.Duration
	wg.Add(1)
	go func() {
		defer wg.Done()
		time.Sleep(soakDuration(t) / 2)
		loadedLatency = anomalyLatency(t, ctx, d)
	}()
	soak := highRate(t, ctx, d.grpc, soakDuration(t), rate)
	close(stop)
	wg.Wait()
	t.Logf("anomaly latency: idle %s, under load %s", idleLatency, loadedLatency)
	assert.Less(t, loadedLatency, 5*time.Second)
	assert.Less(t, loadedLatency, 2*idleLatency+time.Second)

	assert.Zero(t, soak.Failed, "refused requests: %s", soak.LastError)
	assert.Zero(t, soak.RejectedSpans)
	assert.InDelta(t, rate, float64(soak.Spans)/soak.Seconds, rate*0.25, "the load held its rate")
	require.False(t, d.Exited())

	// Memory: the first third is warm-up; after it, the peak of the last
	// third may not exceed the peak of the middle third by more than 15%
	// plus 48 MiB (GC and batching noise).
	require.GreaterOrEqual(t, len(samples), 9)
	third := len(samples) / 3
	middle := slices.Max(samples[third : 2*third])
	last := slices.Max(samples[2*third:])
	t.Logf("RSS MiB: warm-up peak %.0f, middle peak %.0f, last peak %.0f", slices.Max(samples[:third]), middle, last)
	assert.LessOrEqual(t, last, middle*1.15+48, "memory grows under steady load")
}
