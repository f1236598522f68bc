package mcp

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sandwatch/sandwatch/test/testutil"
)

// checkDashboardMetrics: every metric the MCP dashboard queries is served
// by the running collector (the sandbox endpoint or its own telemetry),
// but for the opt-in per-target series, anomalies and tool decisions,
// which need a config, an attack or a coding agent's log events. (test/metrics runs the dashboards/*.json panels against a
// real Prometheus; this dashboard lives under dashboards/agents/ because
// that suite's workload has no agent traffic.)
func checkDashboardMetrics(t *testing.T, e *Env) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testutil.RepoRoot(t), "dashboards", "agents", "sandwatch-mcp.json"))
	require.NoError(t, err)
	var d struct {
		Panels []struct {
			Targets []struct{ Expr string } `json:"targets"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(raw, &d))
	served := scrapeText(t, e.PromURL) + scrapeText(t, e.TelemetryURL)
	names := regexp.MustCompile(`\b(sandbox_[a-z_]+|otelcol_[a-z_]+)\b`)
	checked := 0
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			for _, name := range names.FindAllString(tg.Expr, -1) {
				switch name {
				case "sandbox_target_operations_total", "sandbox_anomalies_total", "sandbox_capability_decisions_total":
					continue
				}
				require.Contains(t, served, "\n"+name, "dashboard metric %s in %s", name, tg.Expr)
				checked++
			}
		}
	}
	require.Greater(t, checked, 5)
}

func scrapeText(t *testing.T, url string) string {
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return "\n" + strings.ReplaceAll(string(raw), "# TYPE ", "")
}
