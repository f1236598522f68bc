package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The overrides on the project's own configs: no-archive is what it was
// for spans (forensic off traces), and off logs too for the agent mix;
// the references get a logs pipeline; pprof joins the config's extensions.
func TestCollectorArgs(t *testing.T) {
	def, err := readConfig("../../config/default.yaml")
	require.NoError(t, err)
	noArchive := setup{Name: "no-archive", NoArchive: true}
	spans, agent := mix{Key: "simulator"}, mix{Key: "agent", Logs: true}

	assert.Equal(t, []string{"--config", "yaml:service::pipelines::traces::exporters: [sandbox_metrics, baseline]"},
		collectorArgs(noArchive, spans, def))
	assert.Equal(t, []string{
		"--config", "yaml:service::pipelines::traces::exporters: [sandbox_metrics, baseline]",
		"--config", "yaml:service::pipelines::logs::exporters: [sandbox_metrics, baseline]",
	}, collectorArgs(noArchive, agent, def))
	assert.Empty(t, collectorArgs(setup{Name: "sandwatch"}, agent, def), "default.yaml has its logs pipeline")

	pt, err := readConfig("../passthrough.yaml")
	require.NoError(t, err)
	assert.Empty(t, collectorArgs(setup{Name: "passthrough"}, spans, pt))
	assert.Equal(t, []string{
		"--config", "yaml:service::pipelines::logs::receivers: [otlp]",
		"--config", "yaml:service::pipelines::logs::processors: [batch]",
		"--config", "yaml:service::pipelines::logs::exporters: [nop]",
	}, collectorArgs(setup{Name: "passthrough"}, agent, pt))

	stock, err := readConfig("../stock.yaml")
	require.NoError(t, err)
	assert.Contains(t, collectorArgs(setup{Name: "stock"}, agent, stock), "yaml:service::pipelines::logs::processors: [memory_limiter, redaction, batch]")

	assert.Equal(t, []string{
		"--config", "yaml:extensions::pprof::endpoint: 127.0.0.1:1777",
		"--config", "yaml:service::extensions: [health_check, socket_guard, file_storage/state, forensic_query, pprof]",
	}, pprofArgs(def, "127.0.0.1:1777"))
}

func TestReadConfigNeedsTraces(t *testing.T) {
	_, err := readConfig("testdata/no-traces.yaml")
	assert.ErrorContains(t, err, "service::pipelines::traces")
	_, err = readConfig("testdata/missing.yaml")
	assert.Error(t, err)
}
