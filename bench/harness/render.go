package main

import (
	"fmt"
	"runtime"
	"strings"
	"time"
)

func render(mixName string, rs []result, d time.Duration, conc, batch int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Mix: %s. Measured %s on %s/%s, %d CPUs: %s of pre-encoded OTLP/gRPC load per config (%d spans/request, %d in flight), after a warm-up.\n\n",
		mixName, time.Now().UTC().Format("2006-01-02"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), d, batch, conc)
	b.WriteString("| config | spans accepted | collector CPU-s | spans per CPU-second | spans/s (wall) | peak RSS MiB | refused |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|\n")
	by := map[string]result{}
	for _, r := range rs {
		by[r.Name] = r
		fmt.Fprintf(&b, "| %s | %d | %.1f | %.0f | %.0f | %.0f | %d |\n",
			r.Name, r.Spans, r.CPUSeconds, r.SpansPerCPUSecond, r.SpansPerSecond, r.PeakRSSMiB, r.Refused)
	}
	sw, okS := by["sandwatch"]
	if pt, ok := by["passthrough"]; ok && okS {
		fmt.Fprintf(&b, "\nsandwatch / passthrough: %.2f (target >= 0.4)\n", sw.SpansPerCPUSecond/pt.SpansPerCPUSecond)
	}
	if st, ok := by["stock"]; ok && okS {
		fmt.Fprintf(&b, "sandwatch / stock: %.2f (target >= 5)\n", sw.SpansPerCPUSecond/st.SpansPerCPUSecond)
	}
	if na, ok := by["no-archive"]; ok && okS {
		fmt.Fprintf(&b, "archive's added CPU per span (sandwatch vs no-archive): %.2f us (target <= 1.5)\n",
			1e6/sw.SpansPerCPUSecond-1e6/na.SpansPerCPUSecond)
	}
	return b.String()
}
