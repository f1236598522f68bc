package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sandwatch/sandwatch/internal/procstat"

	"github.com/sandwatch/sandwatch/internal/loopback"
)

type runParams struct {
	bin, ctl, config        string
	setup                   setup
	collectorArgs           []string // the setup's and the mix's collector flags (yaml: overrides)
	loadArgs                []string // the mix's simulate flags
	profile                 string   // "": none; else where the measured window's CPU profile goes
	cfg                     collectorConfig
	duration, warmup        time.Duration
	concurrency, batchSpans int
	spanRate                float64 // 0: as fast as the collector takes them
	tier1Config             string  // --gateway: tier 1's config
	plaintext               bool    // --gateway: configs without TLS and auth
}

// result of one setup on one mix. Records are spans, plus log records on
// a mix that sends them (the agent mix).
type result struct {
	Name                string
	Records             int64
	Refused             int64
	CPUSeconds          float64
	WallSeconds         float64
	RecordsPerCPUSecond float64
	RecordsPerSecond    float64
	PeakRSSMiB          float64
	EndRSSMiB           float64
	Profile             string // the CPU profile's file, with --profile
}

// simulateSummary is the JSON `sandwatchctl simulate --json` prints.
type simulateSummary struct {
	Spans         int64   `json:"spans"`
	Failed        int64   `json:"failed_requests"`
	RejectedSpans int64   `json:"rejected_spans"`
	Seconds       float64 `json:"seconds"`
	LastError     string  `json:"last_error"`
	// Spans plus log records (a sandwatchctl from before the agent mix
	// leaves them out: then spans).
	Records         int64 `json:"records"`
	RejectedRecords int64 `json:"rejected_records"`
}

// accepted is what the collector took, and what it refused.
func (s simulateSummary) accepted() (records, rejected int64) {
	if s.Records == 0 && s.Spans > 0 {
		return s.Spans - s.RejectedSpans, s.RejectedSpans
	}
	return s.Records - s.RejectedRecords, s.RejectedRecords
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
	env, grpcPort := collectorEnv(dir)
	args := p.collectorArgs
	pprofEndpoint := ""
	if p.profile != "" {
		pprofEndpoint = fmt.Sprintf("127.0.0.1:%d", freePort())
		args = append(slices.Clone(args), pprofArgs(p.cfg, pprofEndpoint)...)
	}
	c, err := startCollector(p.bin, []string{p.config}, dir, append(env, p.setup.Env...), args...)
	if err != nil {
		return result{}, err
	}
	defer c.stop()
	endpoint := fmt.Sprintf("127.0.0.1:%d", grpcPort)
	if p.warmup > 0 {
		if _, err := load(p, endpoint, p.warmup); err != nil {
			return result{}, err
		}
	}
	pid := c.cmd.Process.Pid
	cpu0, err := procstat.CPUSeconds(pid)
	if err != nil {
		return result{}, err
	}
	wall0 := time.Now()
	var profiled func() error
	if p.profile != "" {
		profiled = captureProfile(pprofEndpoint, p.duration, p.profile)
	}
	sum, err := load(p, endpoint, p.duration)
	if err != nil {
		return result{}, fmt.Errorf("%w\n%s", err, tail(c.logs.String()))
	}
	cpu1, _ := procstat.CPUSeconds(pid)
	if profiled != nil {
		if err := profiled(); err != nil {
			return result{}, fmt.Errorf("profile: %w", err)
		}
	}
	wall := time.Since(wall0).Seconds()
	cur, peak := procstat.RSSMiB(pid)
	records, rejected := sum.accepted()
	r := result{
		Name: p.setup.Name, Records: records, Refused: rejected,
		CPUSeconds: cpu1 - cpu0, WallSeconds: wall, PeakRSSMiB: peak, EndRSSMiB: cur, Profile: p.profile,
	}
	if sum.Failed > 0 {
		r.Refused += sum.Failed * int64(p.batchSpans)
		fmt.Fprintf(os.Stderr, "%s: %d requests failed, last error: %s\n", p.setup.Name, sum.Failed, sum.LastError)
	}
	r.RecordsPerCPUSecond = float64(r.Records) / r.CPUSeconds
	r.RecordsPerSecond = float64(r.Records) / wall
	return r, nil
}

// collectorEnv is the environment of a collector run in dir: free loopback
// ports for every endpoint the configs read, data under dir/data. It
// returns the OTLP/gRPC port.
func collectorEnv(dir string) ([]string, int) {
	_ = os.MkdirAll(filepath.Join(dir, "data"), 0o755)
	grpcPort := freePort()
	return append(os.Environ(),
		fmt.Sprintf("SANDWATCH_HEALTH_ENDPOINT=127.0.0.1:%d", freePort()),
		fmt.Sprintf("SANDWATCH_OTLP_GRPC_ENDPOINT=127.0.0.1:%d", grpcPort),
		fmt.Sprintf("SANDWATCH_OTLP_HTTP_ENDPOINT=127.0.0.1:%d", freePort()),
		fmt.Sprintf("SANDWATCH_TELEMETRY_PORT=%d", freePort()),
		fmt.Sprintf("SANDWATCH_PROMETHEUS_ENDPOINT=127.0.0.1:%d", freePort()),
		fmt.Sprintf("SANDWATCH_QUERY_ENDPOINT=127.0.0.1:%d", freePort()),
		"SANDWATCH_OTLP_SOCKET="+filepath.Join(dir, "otlp.sock"),
		"SANDWATCH_DATA_DIR="+filepath.Join(dir, "data"),
		"SANDWATCH_MEMORY_LIMIT_MIB=2048",
	), grpcPort
}

// envPort returns the port an environment gives name (host:port or port).
func envPort(env []string, name string) int {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], name+"="); ok {
			_, port, found := strings.Cut(v, ":")
			if !found {
				port = v
			}
			n, _ := strconv.Atoi(port)
			return n
		}
	}
	return 0
}

// collector is a collector process the harness started.
type collector struct {
	cmd  *exec.Cmd
	logs *bytes.Buffer
}

// startCollector starts bin on configs in dir and waits until healthy.
func startCollector(bin string, configs []string, dir string, env []string, extra ...string) (*collector, error) {
	bin, _ = filepath.Abs(bin)
	var args []string
	for _, c := range configs {
		args = append(args, "--config", c)
	}
	args = append(args, extra...) // more flags, e.g. a yaml: config override
	c := &collector{cmd: exec.Command(bin, args...), logs: &bytes.Buffer{}}
	c.cmd.Dir = dir
	c.cmd.Env = env
	c.cmd.Stdout, c.cmd.Stderr = c.logs, c.logs
	if err := c.cmd.Start(); err != nil {
		return nil, err
	}
	if err := waitHealthy(fmt.Sprintf("http://127.0.0.1:%d/", envPort(env, "SANDWATCH_HEALTH_ENDPOINT")), 90*time.Second); err != nil {
		c.stop()
		return nil, fmt.Errorf("%w\n%s", err, tail(c.logs.String()))
	}
	return c, nil
}

// stop ends the collector gracefully (SIGKILL after 20 s).
func (c *collector) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = c.cmd.Process.Kill()
	}
}

func load(p runParams, endpoint string, d time.Duration) (simulateSummary, error) {
	ctl, _ := filepath.Abs(p.ctl)
	args := append([]string{"simulate", "--high-rate", "--json", "--endpoint", endpoint,
		"--duration", d.String(), "--concurrency", strconv.Itoa(p.concurrency),
		"--batch-spans", strconv.Itoa(p.batchSpans), "--extensions", "200",
		"--span-rate", strconv.FormatFloat(p.spanRate, 'f', 0, 64)}, p.loadArgs...)
	out, err := exec.Command(ctl, args...).Output()
	if err != nil {
		return simulateSummary{}, fmt.Errorf("simulate: %w: %s", err, out)
	}
	var s simulateSummary
	if err := json.Unmarshal(out, &s); err != nil {
		return s, fmt.Errorf("simulate output %q: %w", out, err)
	}
	return s, nil
}

// simulateHas reports whether `sandwatchctl simulate` knows flag.
func simulateHas(ctl, flag string) bool {
	abs, _ := filepath.Abs(ctl)
	out, _ := exec.Command(abs, "simulate", "--help").CombinedOutput()
	return bytes.Contains(out, []byte(flag+" "))
}

// captureProfile asks the collector's pprof extension for a CPU profile of
// the next d (in whole seconds, at least one), in the background; the
// function it returns waits for it and writes it to path.
func captureProfile(endpoint string, d time.Duration, path string) func() error {
	done := make(chan error, 1)
	go func() {
		url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", endpoint, max(1, int(math.Ceil(d.Seconds()))))
		resp, err := http.Get(url)
		if err != nil {
			done <- err
			return
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("%s: %s: %s", url, resp.Status, bytes.TrimSpace(data))
		}
		if err == nil {
			err = os.WriteFile(path, data, 0o644)
		}
		done <- err
	}()
	return func() error { return <-done }
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
