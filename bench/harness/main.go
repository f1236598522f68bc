// Command harness is `make bench`: it starts bin/sandwatch once per
// reference config, drives each with `sandwatchctl simulate --high-rate`
// (pre-encoded OTLP batches over loopback gRPC), and measures spans (or
// records: spans and log records) accepted per CPU-second of the collector
// process, its memory, and refused ones. It runs every setup on each load
// mix (the simulator's, a secret-heavy one, the agent mix) and prints one
// table per mix, with the archive's own cost (sandwatch against sandwatch
// without the forensic exporter), and writes them to a file. With
// --profile it saves a CPU profile of each measured window and adds where
// the CPU went, part by part (parts.go).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

type setup struct {
	Name   string
	Config string
	Env    []string
	// NoArchive: the config with the forensic exporter taken off its
	// pipelines (noArchiveArgs).
	NoArchive bool
}

// mix is a load mix: the extra `sandwatchctl simulate` flags that make it.
type mix struct {
	Key  string // its --mixes name, and its profiles' (<setup>-<key>.pprof)
	Name string
	Args []string
	// Needs is what `sandwatchctl simulate --help` must mention for the
	// mix to run (an older sandwatchctl skips it).
	Needs string
	// Logs: the mix sends log records too, and counts records (spans and
	// log records) instead of spans.
	Logs bool
}

func (m mix) unit() string {
	if m.Logs {
		return "records"
	}
	return "spans"
}

// collectorArgs are the yaml: overrides the setup takes on the mix: a logs
// pipeline where the reference config has none, the archive taken off.
func collectorArgs(s setup, m mix, c collectorConfig) []string {
	var args []string
	if m.Logs {
		args = logsPipelineArgs(c)
	}
	if s.NoArchive {
		args = append(args, noArchiveArgs(c, m.Logs)...)
	}
	return args
}

func main() {
	var (
		duration    = flag.Duration("duration", 20*time.Second, "load duration per config")
		warmup      = flag.Duration("warmup", 3*time.Second, "load before measuring (JIT of caches, pools)")
		concurrency = flag.Int("concurrency", 4, "requests in flight")
		batchSpans  = flag.Int("batch-spans", 1000, "spans per request")
		out         = flag.String("out", "bench/results.md", "where to write the table")
		only        = flag.String("only", "", "comma-separated setups to run (passthrough,stock,sandwatch,no-archive)")
		mixes       = flag.String("mixes", "simulator,secret-heavy,agent", "comma-separated load mixes: simulator (1 span in 20 carries a secret), secret-heavy, agent (simulate --agents: GenAI, MCP and Traceloop spans and the coding agents' log events; counts records)")
		profileDir  = flag.String("profile", "", "save a CPU profile of each measured window (pprof extension) to DIR/<setup>-<mix>.pprof and add the CPU per part to the results")
		partsOf     = flag.String("parts", "", "instead: print the CPU per part of these pprof CPU profiles (comma-separated)")
		secretRatio = flag.Float64("secret-ratio", 0.33, "secret-heavy mix: share of spans carrying credentials (sandwatchctl simulate --secret-ratio)")
		bin         = flag.String("bin", "bin/sandwatch", "collector binary")
		ctl         = flag.String("ctl", "bin/sandwatchctl", "sandwatchctl binary")
		swConfig    = flag.String("sandwatch-config", "config/default.yaml", "config of the sandwatch setup (to measure a variant)")
		gateway     = flag.String("gateway", "", "instead: the two-tier gateway (config/gateway-tier1.yaml, config/gateway-tier2.yaml) with these replica counts, e.g. 1,3")
		spanRate    = flag.Float64("span-rate", 0, "cap the load at this many spans per second (0 = as fast as accepted)")
		tier1Config = flag.String("tier1-config", "config/gateway-tier1.yaml", "with --gateway: the tier-1 config (to measure a variant)")
		tier2Config = flag.String("tier2-config", "config/gateway-tier2.yaml", "with --gateway: the tier-2 config (to measure a variant)")
		plaintext   = flag.Bool("plaintext", false, "with --gateway: the configs have no TLS nor authentication (a variant without security); the load is sent in the clear")
		stockConfig = flag.String("stock-config", "bench/stock.yaml", "config of the stock setup (e.g. bench/redaction-10.yaml)")
	)
	flag.Parse()
	if *partsOf != "" {
		for _, path := range strings.Split(*partsOf, ",") {
			p, err := readProfile(path)
			if err == nil {
				var b breakdown
				if b, err = splitParts(p); err == nil {
					fmt.Println(renderParts(path, b, 0, 0, ""))
				}
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
		return
	}
	if *gateway != "" {
		if *profileDir != "" {
			fmt.Fprintln(os.Stderr, "--profile: not with --gateway")
			os.Exit(2)
		}
		p := runParams{bin: *bin, ctl: *ctl, duration: *duration, warmup: *warmup, concurrency: *concurrency, batchSpans: *batchSpans, spanRate: *spanRate, plaintext: *plaintext}
		p.config, _ = filepath.Abs(*tier2Config)
		p.tier1Config, _ = filepath.Abs(*tier1Config)
		var rs []gatewayResult
		for _, n := range strings.Split(*gateway, ",") {
			var replicas int
			if _, err := fmt.Sscan(n, &replicas); err != nil || replicas < 1 {
				fmt.Fprintf(os.Stderr, "--gateway: %q is not a replica count\n", n)
				os.Exit(2)
			}
			r, err := measureGateway(p, replicas)
			if err != nil {
				fmt.Fprintf(os.Stderr, "gateway x%d: %v\n", replicas, err)
				os.Exit(1)
			}
			rs = append(rs, r)
		}
		table := renderGateway(rs, p)
		fmt.Print(table)
		if *out != "bench/results.md" && *out != "" {
			_ = os.WriteFile(*out, []byte(table), 0o644)
		}
		return
	}
	setups := []setup{
		{Name: "passthrough", Config: "bench/passthrough.yaml"},
		{Name: "stock", Config: *stockConfig},
		{Name: "sandwatch", Config: *swConfig},
		// The same pipeline without the forensic exporter: the difference
		// is the archive's cost per span (per record).
		{Name: "no-archive", Config: *swConfig, NoArchive: true},
	}
	all := map[string]mix{
		"simulator":    {Key: "simulator", Name: "simulator"},
		"secret-heavy": {Key: "secret-heavy", Name: fmt.Sprintf("secret-heavy (%.0f%% of spans carry credentials)", 100**secretRatio), Args: []string{"--secret-ratio", fmt.Sprint(*secretRatio)}, Needs: "--secret-ratio"},
		"agent": {Key: "agent", Name: "agent (simulate --agents: every emitter, content and _meta on half the agents; records are spans and log records)",
			Args: []string{"--agents"}, Needs: "--agents --high-rate", Logs: true},
	}
	if *profileDir != "" {
		if err := os.MkdirAll(*profileDir, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	var table strings.Builder
	for _, name := range strings.Split(*mixes, ",") {
		m, ok := all[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "unknown mix %q\n", name)
			os.Exit(2)
		}
		if m.Needs != "" && !simulateHas(*ctl, m.Needs) {
			fmt.Fprintf(os.Stderr, "mix %s skipped: this sandwatchctl simulate has no %s\n", name, m.Needs)
			continue
		}
		var results []result
		for _, s := range setups {
			if *only != "" && !strings.Contains(","+*only+",", ","+s.Name+",") {
				continue
			}
			cfgPath, _ := filepath.Abs(s.Config)
			cfg, err := readConfig(cfgPath)
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s (%s): %v\n", s.Name, name, err)
				os.Exit(1)
			}
			p := runParams{
				bin: *bin, ctl: *ctl, setup: s, config: cfgPath, cfg: cfg, collectorArgs: collectorArgs(s, m, cfg), loadArgs: m.Args,
				duration: *duration, warmup: *warmup, concurrency: *concurrency, batchSpans: *batchSpans,
			}
			if *profileDir != "" {
				p.profile = filepath.Join(*profileDir, s.Name+"-"+m.Key+".pprof")
			}
			r, err := measure(p)
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s (%s): %v\n", s.Name, name, err)
				os.Exit(1)
			}
			results = append(results, r)
			fmt.Fprintf(os.Stderr, "%s (%s): %.0f %s/CPU-s, %.0f %s/s, peak RSS %.0f MiB, refused %d\n",
				r.Name, name, r.RecordsPerCPUSecond, m.unit(), r.RecordsPerSecond, m.unit(), r.PeakRSSMiB, r.Refused)
		}
		table.WriteString(render(m, results, *duration, *concurrency, *batchSpans))
		table.WriteString("\n")
		if *profileDir != "" {
			table.WriteString(renderProfiles(m, results))
		}
	}
	fmt.Print(table.String())
	if *out != "" {
		if err := os.WriteFile(*out, []byte(table.String()), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
