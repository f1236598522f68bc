package main

import (
	"fmt"
	"runtime"
	"strings"
	"time"
)

func render(m mix, rs []result, d time.Duration, conc, batch int) string {
	var b strings.Builder
	u, one := m.unit(), strings.TrimSuffix(m.unit(), "s")
	fmt.Fprintf(&b, "Mix: %s. Measured %s on %s/%s, %d CPUs: %s of pre-encoded OTLP/gRPC load per config (%d %s/request, %d in flight), after a warm-up.\n\n",
		m.Name, time.Now().UTC().Format("2006-01-02"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), d, batch, u, conc)
	if m.Logs {
		b.WriteString("Log records go through each config's logs pipeline: passthrough and stock get one (their traces pipeline's receivers and processors into nop; stock has no metrics from log records); no-archive takes forensic off the logs pipeline too.\n\n")
	}
	fmt.Fprintf(&b, "| config | %s accepted | collector CPU-s | %s per CPU-second | %s/s (wall) | peak RSS MiB | refused |\n", u, u, u)
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|\n")
	by := map[string]result{}
	for _, r := range rs {
		by[r.Name] = r
		fmt.Fprintf(&b, "| %s | %d | %.1f | %.0f | %.0f | %.0f | %d |\n",
			r.Name, r.Records, r.CPUSeconds, r.RecordsPerCPUSecond, r.RecordsPerSecond, r.PeakRSSMiB, r.Refused)
	}
	sw, okS := by["sandwatch"]
	if pt, ok := by["passthrough"]; ok && okS {
		fmt.Fprintf(&b, "\nsandwatch / passthrough: %.2f (target >= 0.4)\n", sw.RecordsPerCPUSecond/pt.RecordsPerCPUSecond)
	}
	if st, ok := by["stock"]; ok && okS {
		fmt.Fprintf(&b, "sandwatch / stock: %.2f (target >= 5)\n", sw.RecordsPerCPUSecond/st.RecordsPerCPUSecond)
	}
	if na, ok := by["no-archive"]; ok && okS {
		fmt.Fprintf(&b, "archive's added CPU per %s (sandwatch vs no-archive): %.2f us (target <= 1.5)\n",
			one, 1e6/sw.RecordsPerCPUSecond-1e6/na.RecordsPerCPUSecond)
	}
	return b.String()
}

// renderProfiles gives, per setup measured with --profile, its CPU split
// into parts (parts.go).
func renderProfiles(m mix, rs []result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Where the CPU went, mix %s (pprof of each measured window; flat: each sample once, in the first part of bench/harness/parts.go its stack matches; cum: every part its stack passes through; µs are the part's share of the /proc CPU per %s above):\n\n",
		m.Key, strings.TrimSuffix(m.unit(), "s"))
	for _, r := range rs {
		if r.Profile == "" {
			continue
		}
		p, err := readProfile(r.Profile)
		if err != nil {
			fmt.Fprintf(&b, "%s: %v\n\n", r.Name, err)
			continue
		}
		bd, err := splitParts(p)
		if err != nil {
			fmt.Fprintf(&b, "%s: %v\n\n", r.Name, err)
			continue
		}
		b.WriteString(renderParts(fmt.Sprintf("%s (%s)", r.Name, r.Profile), bd, r.Records, r.CPUSeconds, m.unit()))
		b.WriteString("\n")
	}
	return b.String()
}
