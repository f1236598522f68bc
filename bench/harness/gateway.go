package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sandwatch/sandwatch/internal/devpki"
	"github.com/sandwatch/sandwatch/internal/procstat"
	"github.com/sandwatch/sandwatch/internal/simulate"
)

// gatewayResult is one two-tier run: tier 1 (config/gateway-tier1.yaml)
// in front of n tier-2 replicas (config/gateway-tier2.yaml) sharing a
// file:// store, all on this machine.
type gatewayResult struct {
	Replicas   int
	Spans      int64
	Refused    int64
	Tier1CPU   float64
	Tier2CPU   []float64
	Wall       float64
	DrainWait  float64
	Tier1RSS   float64
	Tier2RSS   float64
	LoadPerSec float64
}

// measureGateway drives tier 1 with the same load as measure and counts
// the CPU of every process from the start of the load until tier 1's
// routing queue is empty again, so what tier 2 still had to do is in.
func measureGateway(p runParams, replicas int) (gatewayResult, error) {
	res := gatewayResult{Replicas: replicas}
	root, err := os.MkdirTemp("", "sandwatch-gateway-bench-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(root)
	store := "file://" + filepath.Join(root, "shared")
	// The shipped configs want certificates, tokens and identity
	// bindings: a throwaway set, and the load sent with the sender's
	// (through the OTLP exporter environment sandwatchctl reads).
	var secure []string
	if !p.plaintext {
		// Bound by name to the 200 extensions the load reports, so the
		// identity check reads every span as it would in production.
		var ids []string
		for _, e := range simulate.New(simulate.Options{Extensions: 200}).Extensions() {
			ids = append(ids, e.ID)
		}
		pki, err := devpki.NewGateway(filepath.Join(root, "pki"), ids...)
		if err != nil {
			return res, err
		}
		secure = pki.CollectorEnv()
		if err := devpki.Setenv(pki.SenderEnv()); err != nil {
			return res, err
		}
	}
	var tier2 []*collector
	defer func() {
		for _, c := range tier2 {
			c.stop()
		}
	}()
	var eps []string
	for i := range replicas {
		dir := filepath.Join(root, fmt.Sprintf("r%d", i))
		_ = os.MkdirAll(dir, 0o755)
		env, grpc := collectorEnv(dir)
		env = append(append(env, secure...), "SANDWATCH_SHARED_STORE="+store, fmt.Sprintf("SANDWATCH_REPLICA=r%d", i))
		c, err := startCollector(p.bin, []string{p.config}, dir, env)
		if err != nil {
			return res, fmt.Errorf("replica %d: %w", i, err)
		}
		tier2 = append(tier2, c)
		eps = append(eps, fmt.Sprintf("127.0.0.1:%d", grpc))
	}
	dir := filepath.Join(root, "tier1")
	_ = os.MkdirAll(dir, 0o755)
	env, grpc := collectorEnv(dir)
	env = append(append(env, secure...), "SANDWATCH_TIER2_ENDPOINTS=["+strings.Join(eps, ", ")+"]")
	t1, err := startCollector(p.bin, []string{p.tier1Config}, dir, env)
	if err != nil {
		return res, fmt.Errorf("tier 1: %w", err)
	}
	defer t1.stop()
	queue := fmt.Sprintf("http://127.0.0.1:%d/metrics", envPort(env, "SANDWATCH_TELEMETRY_PORT"))
	endpoint := fmt.Sprintf("127.0.0.1:%d", grpc)
	if p.warmup > 0 {
		if _, err := load(p, endpoint, p.warmup); err != nil {
			return res, err
		}
		waitDrained(queue, time.Minute)
	}
	cpu := func() (float64, []float64) {
		c1, _ := procstat.CPUSeconds(t1.cmd.Process.Pid)
		var c2 []float64
		for _, c := range tier2 {
			v, _ := procstat.CPUSeconds(c.cmd.Process.Pid)
			c2 = append(c2, v)
		}
		return c1, c2
	}
	a1, a2 := cpu()
	wall0 := time.Now()
	sum, err := load(p, endpoint, p.duration)
	if err != nil {
		return res, fmt.Errorf("%w\n%s", err, tail(t1.logs.String()))
	}
	loadWall := time.Since(wall0).Seconds()
	drain0 := time.Now()
	waitDrained(queue, 2*time.Minute)
	res.DrainWait = time.Since(drain0).Seconds()
	b1, b2 := cpu()
	res.Wall = time.Since(wall0).Seconds()
	res.Spans, res.Refused = sum.Spans-sum.RejectedSpans, sum.RejectedSpans+sum.Failed*int64(p.batchSpans)
	if sum.Failed > 0 {
		fmt.Fprintf(os.Stderr, "gateway x%d: %d requests failed, last error: %s\n", replicas, sum.Failed, sum.LastError)
	}
	res.LoadPerSec = float64(res.Spans) / loadWall
	res.Tier1CPU = b1 - a1
	for i := range b2 {
		res.Tier2CPU = append(res.Tier2CPU, b2[i]-a2[i])
		_, peak := procstat.RSSMiB(tier2[i].cmd.Process.Pid)
		res.Tier2RSS = max(res.Tier2RSS, peak)
	}
	_, res.Tier1RSS = procstat.RSSMiB(t1.cmd.Process.Pid)
	return res, nil
}

// waitDrained waits until tier 1's load_balancing queue is empty.
func waitDrained(metricsURL string, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if n, ok := queueSize(metricsURL); ok && n == 0 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	fmt.Fprintf(os.Stderr, "tier 1 queue not drained after %s\n", timeout)
}

func queueSize(metricsURL string) (float64, bool) {
	resp, err := http.Get(metricsURL)
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	found, total := false, 0.0
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "otelcol_exporter_queue_size{") && strings.Contains(l, `exporter="load_balancing"`) {
			f := strings.Fields(l)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			total += v
			found = true
		}
	}
	return total, found
}

func renderGateway(rs []gatewayResult, p runParams) string {
	var b strings.Builder
	security := "mTLS, tokens and identity bindings from a throwaway PKI"
	if p.plaintext {
		security = "plaintext"
	}
	fmt.Fprintf(&b, "Two tiers on one machine (tier 1: %s, tier 2: %s, %s): %s of pre-encoded OTLP/gRPC load into tier 1 (%d spans/request, %d in flight, span rate cap %.0f/s, 200 extensions); CPU counted until tier 1's queue drained.\n\n",
		filepath.Base(p.tier1Config), filepath.Base(p.config), security, p.duration, p.batchSpans, p.concurrency, p.spanRate)
	b.WriteString("| replicas | spans accepted | tier-1 CPU-s | tier-1 spans/CPU-s | tier-1 µs/span | tier-2 CPU-s (each) | tier-2 spans/CPU-s | tier-2 µs/span | drain s | peak RSS MiB t1 / t2 | refused |\n")
	b.WriteString("|---:|---:|---:|---:|---:|---|---:|---:|---:|---|---:|\n")
	for _, r := range rs {
		var t2 float64
		var each []string
		for _, c := range r.Tier2CPU {
			t2 += c
			each = append(each, fmt.Sprintf("%.1f", c))
		}
		s := float64(r.Spans)
		fmt.Fprintf(&b, "| %d | %d | %.1f | %.0f | %.1f | %.1f (%s) | %.0f | %.1f | %.1f | %.0f / %.0f | %d |\n",
			r.Replicas, r.Spans, r.Tier1CPU, s/r.Tier1CPU, r.Tier1CPU/s*1e6, t2, strings.Join(each, ", "), s/t2, t2/s*1e6,
			r.DrainWait, r.Tier1RSS, r.Tier2RSS, r.Refused)
	}
	return b.String()
}
