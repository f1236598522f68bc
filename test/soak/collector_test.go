// Package soak holds the whole-pipeline tests of issue 7: hostile senders,
// sustained load. They run the real binary on config/default.yaml.
package soak

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sandwatch/sandwatch/test/testutil"
)

// defaultCollector starts bin/sandwatch on config/default.yaml with every
// listener on a free loopback port and its data under a temp dir.
type defaultCollector struct {
	*testutil.Collector
	grpc, http, telemetry, prom string
	memLimitMiB                 int
}

func startDefault(t *testing.T, memLimitMiB int, extraEnv ...string) *defaultCollector {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	health := testutil.FreePort(t)
	d := &defaultCollector{
		grpc:        fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t)),
		http:        fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t)),
		telemetry:   fmt.Sprintf("%d", testutil.FreePort(t)),
		prom:        fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t)),
		memLimitMiB: memLimitMiB,
	}
	env := append([]string{
		fmt.Sprintf("SANDWATCH_HEALTH_ENDPOINT=127.0.0.1:%d", health),
		"SANDWATCH_OTLP_GRPC_ENDPOINT=" + d.grpc,
		"SANDWATCH_OTLP_HTTP_ENDPOINT=" + d.http,
		"SANDWATCH_TELEMETRY_PORT=" + d.telemetry,
		"SANDWATCH_PROMETHEUS_ENDPOINT=" + d.prom,
		fmt.Sprintf("SANDWATCH_QUERY_ENDPOINT=127.0.0.1:%d", testutil.FreePort(t)),
		"SANDWATCH_OTLP_SOCKET=" + filepath.Join(dir, "otlp.sock"),
		"SANDWATCH_DATA_DIR=" + filepath.Join(dir, "data"),
		fmt.Sprintf("SANDWATCH_MEMORY_LIMIT_MIB=%d", memLimitMiB),
		// The shipped proportion (default.yaml 256 of 1024, the chart a
		// quarter of memoryLimitMiB): a fixed 256 would make 512 refuse
		// above 256 MiB, which the flood's garbage crosses now and then.
		fmt.Sprintf("SANDWATCH_MEMORY_SPIKE_MIB=%d", memLimitMiB/4),
	}, extraEnv...)
	d.Collector = testutil.StartCollectorFile(t, dir, filepath.Join(testutil.RepoRoot(t), "config", "default.yaml"), env...)
	d.WaitHealthy(fmt.Sprintf("http://127.0.0.1:%d/", health), 90*time.Second)
	return d
}

func (d *defaultCollector) telemetryURL() string {
	return "http://127.0.0.1:" + d.telemetry + "/metrics"
}

// acceptedSpans is the receivers' accepted-spans counter.
func (d *defaultCollector) acceptedSpans(t *testing.T) float64 {
	t.Helper()
	v, err := testutil.ScrapeSum(d.telemetryURL(), "otelcol_receiver_accepted_spans")
	if err != nil {
		t.Fatalf("scraping own telemetry: %v", err)
	}
	return v
}

// goodSummary is what a well-behaved sender reports (`simulate --json`).
type goodSummary struct {
	Spans    int64 `json:"spans"`
	Requests int64 `json:"requests"`
	Failed   int64 `json:"failed_requests"`
	out      string
}

// goodSender runs a well-behaved sender (simulated invocations, 40/s, 30
// extensions) for 20 s beside whatever the test does; wait returns what
// it reported.
func goodSender(t *testing.T, ctx context.Context, d *defaultCollector) (wait func() goodSummary) {
	var wg sync.WaitGroup
	var out string
	var err error
	wg.Add(1)
	go func() {
		defer wg.Done()
		out, err = testutil.RunCtl(t, ctx, "simulate", "--json", "--endpoint", d.grpc,
			"--duration", "20s", "--rate", "40", "--extensions", "30")
	}()
	return func() goodSummary {
		wg.Wait()
		require.NoError(t, err, out)
		g := goodSummary{out: out}
		require.NoError(t, json.Unmarshal([]byte(out), &g), out)
		return g
	}
}
