// Command harness is `make bench`: it starts bin/sandwatch once per
// reference config, drives each with `sandwatchctl simulate --high-rate`
// (pre-encoded OTLP batches over loopback gRPC), and measures spans
// accepted per CPU-second of the collector process, its memory, and
// refused spans. It runs every setup on each load mix (the simulator's,
// and a secret-heavy one) and prints one table per mix, with the
// archive's own cost (sandwatch against sandwatch without the forensic
// exporter), and writes them to a file.
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
	Args   []string // more collector flags (e.g. a yaml: config override)
}

// mix is a load mix: the extra `sandwatchctl simulate` flags that make it.
type mix struct {
	Name string
	Args []string
}

func main() {
	var (
		duration    = flag.Duration("duration", 20*time.Second, "load duration per config")
		warmup      = flag.Duration("warmup", 3*time.Second, "load before measuring (JIT of caches, pools)")
		concurrency = flag.Int("concurrency", 4, "requests in flight")
		batchSpans  = flag.Int("batch-spans", 1000, "spans per request")
		out         = flag.String("out", "bench/results.md", "where to write the table")
		only        = flag.String("only", "", "comma-separated setups to run (passthrough,stock,sandwatch,no-archive)")
		mixes       = flag.String("mixes", "simulator,secret-heavy", "comma-separated load mixes: simulator (1 span in 20 carries a secret), secret-heavy")
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
	if *gateway != "" {
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
		// The same pipeline without the forensic exporter on traces: the
		// difference is the archive's cost per span.
		{Name: "no-archive", Config: *swConfig, Args: []string{"--config", "yaml:service::pipelines::traces::exporters: [sandbox_metrics, baseline]"}},
	}
	all := map[string]mix{
		"simulator":    {Name: "simulator"},
		"secret-heavy": {Name: fmt.Sprintf("secret-heavy (%.0f%% of spans carry credentials)", 100**secretRatio), Args: []string{"--secret-ratio", fmt.Sprint(*secretRatio)}},
	}
	var table strings.Builder
	for _, name := range strings.Split(*mixes, ",") {
		m, ok := all[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "unknown mix %q\n", name)
			os.Exit(2)
		}
		if len(m.Args) > 0 && !simulateHas(*ctl, m.Args[0]) {
			fmt.Fprintf(os.Stderr, "mix %s skipped: this sandwatchctl simulate has no %s\n", name, m.Args[0])
			continue
		}
		var results []result
		for _, s := range setups {
			if *only != "" && !strings.Contains(","+*only+",", ","+s.Name+",") {
				continue
			}
			cfg, _ := filepath.Abs(s.Config)
			r, err := measure(runParams{
				bin: *bin, ctl: *ctl, setup: s, config: cfg, loadArgs: m.Args,
				duration: *duration, warmup: *warmup, concurrency: *concurrency, batchSpans: *batchSpans,
			})
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s (%s): %v\n", s.Name, name, err)
				os.Exit(1)
			}
			results = append(results, r)
			fmt.Fprintf(os.Stderr, "%s (%s): %.0f spans/CPU-s, %.0f spans/s, peak RSS %.0f MiB, refused %d\n",
				r.Name, name, r.SpansPerCPUSecond, r.SpansPerSecond, r.PeakRSSMiB, r.Refused)
		}
		table.WriteString(render(m.Name, results, *duration, *concurrency, *batchSpans))
		table.WriteString("\n")
	}
	fmt.Print(table.String())
	if *out != "" {
		if err := os.WriteFile(*out, []byte(table.String()), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
