// Command harness is `make bench`: it starts bin/sandwatch once per
// reference config, drives each with `sandwatchctl simulate --high-rate`
// (pre-encoded OTLP batches over loopback gRPC), and measures spans
// accepted per CPU-second of the collector process, its memory, and
// refused spans. It prints one table and writes it to a file.
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
}

func main() {
	var (
		duration    = flag.Duration("duration", 20*time.Second, "load duration per config")
		warmup      = flag.Duration("warmup", 3*time.Second, "load before measuring (JIT of caches, pools)")
		concurrency = flag.Int("concurrency", 4, "requests in flight")
		batchSpans  = flag.Int("batch-spans", 1000, "spans per request")
		out         = flag.String("out", "bench/results.md", "where to write the table")
		only        = flag.String("only", "", "comma-separated setups to run (passthrough,stock,sandwatch)")
		bin         = flag.String("bin", "bin/sandwatch", "collector binary")
		ctl         = flag.String("ctl", "bin/sandwatchctl", "sandwatchctl binary")
		swConfig    = flag.String("sandwatch-config", "config/default.yaml", "config of the sandwatch setup (to measure a variant)")
		stockConfig = flag.String("stock-config", "bench/stock.yaml", "config of the stock setup (e.g. bench/redaction-10.yaml)")
		secretRatio = flag.Float64("secret-ratio", 0, "passed to simulate --secret-ratio: the share of spans carrying credentials (0.33 = the secret-heavy mix)")
	)
	flag.Parse()
	setups := []setup{
		{Name: "passthrough", Config: "bench/passthrough.yaml"},
		{Name: "stock", Config: *stockConfig},
		{Name: "sandwatch", Config: *swConfig},
	}
	var results []result
	for _, s := range setups {
		if *only != "" && !strings.Contains(","+*only+",", ","+s.Name+",") {
			continue
		}
		cfg, _ := filepath.Abs(s.Config)
		r, err := measure(runParams{
			bin: *bin, ctl: *ctl, setup: s, config: cfg,
			duration: *duration, warmup: *warmup, concurrency: *concurrency, batchSpans: *batchSpans,
			secretRatio: *secretRatio,
		})
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", s.Name, err)
			os.Exit(1)
		}
		results = append(results, r)
		fmt.Fprintf(os.Stderr, "%s: %.0f spans/CPU-s, %.0f spans/s, peak RSS %.0f MiB, refused %d\n",
			r.Name, r.SpansPerCPUSecond, r.SpansPerSecond, r.PeakRSSMiB, r.Refused)
	}
	table := render(results, *duration, *concurrency, *batchSpans)
	fmt.Print(table)
	if *out != "" {
		if err := os.WriteFile(*out, []byte(table), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
