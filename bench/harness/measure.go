package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/sandwatch/sandwatch/internal/procstat"

	"github.com/sandwatch/sandwatch/internal/loopback"
)

type runParams struct {
	bin, ctl, config        string
	setup                   setup
	duration, warmup        time.Duration
	concurrency, batchSpans int
	secretRatio             float64
}

type result struct {
	Name              string
	Spans             int64
	Refused           int64
	CPUSeconds        float64
	WallSeconds       float64
	SpansPerCPUSecond float64
	SpansPerSecond    float64
	PeakRSSMiB        float64
	EndRSSMiB         float64
}

// simulateSummary is the JSON `sandwatchctl simulate --json` prints.
type simulateSummary struct {
	Spans         int64   `json:"spans"`
	Failed        int64   `json:"failed_requests"`
	RejectedSpans int64   `json:"rejected_spans"`
	Seconds       float64 `json:"seconds"`
	LastError     string  `json:"last_error"`
}

// freePort: the harness's own load connections must not take a port
// handed to the collector (see internal/loopback).
func freePort() int {
	p, err := loopback.FreePort()
	if err != nil {
		panic(err)
	}
	return p
}

func measure(p runParams) (result, error) {
	dir, err := os.MkdirTemp("", "sandwatch-bench-")
	if err != nil {
		return result{}, err
	}
	defer os.RemoveAll(dir)
	_ = os.MkdirAll(filepath.Join(dir, "data"), 0o755)
	health, grpcPort := freePort(), freePort()
	env := append(os.Environ(),
		fmt.Sprintf("SANDWATCH_HEALTH_ENDPOINT=127.0.0.1:%d", health),
		fmt.Sprintf("SANDWATCH_OTLP_GRPC_ENDPOINT=127.0.0.1:%d", grpcPort),
		fmt.Sprintf("SANDWATCH_OTLP_HTTP_ENDPOINT=127.0.0.1:%d", freePort()),
		fmt.Sprintf("SANDWATCH_TELEMETRY_PORT=%d", freePort()),
		fmt.Sprintf("SANDWATCH_PROMETHEUS_ENDPOINT=127.0.0.1:%d", freePort()),
		fmt.Sprintf("SANDWATCH_QUERY_ENDPOINT=127.0.0.1:%d", freePort()),
		"SANDWATCH_OTLP_SOCKET="+filepath.Join(dir, "otlp.sock"),
		"SANDWATCH_DATA_DIR="+filepath.Join(dir, "data"),
		"SANDWATCH_MEMORY_LIMIT_MIB=2048",
	)
	env = append(env, p.setup.Env...)
	bin, _ := filepath.Abs(p.bin)
	cmd := exec.Command(bin, "--config", p.config)
	cmd.Dir = dir
	cmd.Env = env
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
		}
	}()
	if err := waitHealthy(fmt.Sprintf("http://127.0.0.1:%d/", health), 90*time.Second); err != nil {
		return result{}, fmt.Errorf("%w\n%s", err, tail(logs.String()))
	}
	endpoint := fmt.Sprintf("127.0.0.1:%d", grpcPort)
	if p.warmup > 0 {
		if _, err := load(p, endpoint, p.warmup); err != nil {
			return result{}, err
		}
	}
	pid := cmd.Process.Pid
	cpu0, err := procstat.CPUSeconds(pid)
	if err != nil {
		return result{}, err
	}
	wall0 := time.Now()
	sum, err := load(p, endpoint, p.duration)
	if err != nil {
		return result{}, fmt.Errorf("%w\n%s", err, tail(logs.String()))
	}
	cpu1, _ := procstat.CPUSeconds(pid)
	wall := time.Since(wall0).Seconds()
	cur, peak := procstat.RSSMiB(pid)
	r := result{
		Name: p.setup.Name, Spans: sum.Spans - sum.RejectedSpans, Refused: sum.RejectedSpans,
		CPUSeconds: cpu1 - cpu0, WallSeconds: wall, PeakRSSMiB: peak, EndRSSMiB: cur,
	}
	if sum.Failed > 0 {
		r.Refused += sum.Failed * int64(p.batchSpans)
		fmt.Fprintf(os.Stderr, "%s: %d requests failed, last error: %s\n", p.setup.Name, sum.Failed, sum.LastError)
	}
	r.SpansPerCPUSecond = float64(r.Spans) / r.CPUSeconds
	r.SpansPerSecond = float64(r.Spans) / wall
	return r, nil
}

func load(p runParams, endpoint string, d time.Duration) (simulateSummary, error) {
	ctl, _ := filepath.Abs(p.ctl)
	out, err := exec.Command(ctl, "simulate", "--high-rate", "--json", "--endpoint", endpoint,
		"--duration", d.String(), "--concurrency", strconv.Itoa(p.concurrency),
		"--batch-spans", strconv.Itoa(p.batchSpans), "--extensions", "200",
		"--secret-ratio", strconv.FormatFloat(p.secretRatio, 'g', -1, 64)).Output()
	if err != nil {
		return simulateSummary{}, fmt.Errorf("simulate: %w: %s", err, out)
	}
	var s simulateSummary
	if err := json.Unmarshal(out, &s); err != nil {
		return s, fmt.Errorf("simulate output %q: %w", out, err)
	}
	return s, nil
}

func waitHealthy(url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("collector not healthy at %s", url)
}

func tail(s string) string {
	if len(s) > 4000 {
		return s[len(s)-4000:]
	}
	return s
}
