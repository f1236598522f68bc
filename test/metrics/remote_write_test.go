package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sandwatch/sandwatch/internal/otlpsend"
	"github.com/sandwatch/sandwatch/internal/simulate"
	"github.com/sandwatch/sandwatch/test/testutil"
)

// remoteWriteConfig pushes the sandbox_metrics series to Prometheus' remote
// write receiver. The connector emits cumulative sums and histograms (its
// default temporality), which is what remote write takes, and an empty
// resource, so there is nothing to convert to labels and no target_info.
// Two bucket bounds make the bucket series predictable: every simulated
// file read lasts between 1ms and 1s.
const remoteWriteConfig = `
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:%[1]d
connectors:
  sandbox_metrics:
    flush_interval: 1s
    histogram:
      buckets: [1ms, 1s]
exporters:
  prometheus_remote_write:
    http:
      endpoint: %[2]s/api/v1/write
    target_info:
      enabled: false
    remote_write_queue:
      enabled: true
      queue_size: 100
extensions:
  health_check:
    endpoint: 127.0.0.1:%[3]d
service:
  extensions: [health_check]
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [sandbox_metrics]
    metrics:
      receivers: [sandbox_metrics]
      exporters: [prometheus_remote_write]
`

// reconBursts is how many recon invocations the test sends: each is a root
// span and 12 failed file reads (8 EACCES, 4 ENOENT).
const reconBursts = 5

func TestRemoteWriteToPrometheus(t *testing.T) {
	testutil.Binary(t, "SANDWATCH_BIN") // skips before Prometheus starts
	// No scrape config: every sample arrives by remote write.
	promURL := startPrometheus(t, "{}\n", "--web.enable-remote-write-receiver")

	otlpPort, healthPort := testutil.FreePort(t), testutil.FreePort(t)
	col := testutil.StartCollector(t, fmt.Sprintf(remoteWriteConfig, otlpPort, promURL, healthPort))
	col.WaitHealthy(fmt.Sprintf("http://127.0.0.1:%d/", healthPort), 15*time.Second)

	sender, err := otlpsend.New("http", fmt.Sprintf("127.0.0.1:%d", otlpPort))
	require.NoError(t, err)
	t.Cleanup(func() { _ = sender.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w := newWorkload(t, ctx, sender)
	const ext = 1
	require.Equal(t, simulate.StyleSemconv, w.gen.Extensions()[ext].Style)
	var id string
	for i := 0; i < reconBursts; i++ {
		td, ld, inj, err := w.gen.Inject("recon", ext, time.Now())
		require.NoError(t, err)
		require.Equal(t, 13, td.SpanCount())
		w.send(td, ld)
		id = inj.ExtensionID
	}

	ops := fmt.Sprintf(`sandbox_operations_total{extension=%q,kind="fs",outcome="error"}`, id)
	const wantOps = 12 * reconBursts
	testutil.Eventually(t, 20*time.Second, func() bool {
		v, ok := queryValue(t, promURL, ops)
		require.LessOrEqual(t, v, float64(wantOps), ops)
		return ok && v == wantOps
	}, "%s never reached %d by remote write", ops, wantOps)
	// The flush that carried the last operations carried everything else.
	for q, want := range map[string]float64{
		fmt.Sprintf(`sandbox_errors_total{extension=%q,kind="fs",error_class="EACCES"}`, id): 8 * reconBursts,
		fmt.Sprintf(`sandbox_errors_total{extension=%q,kind="fs",error_class="ENOENT"}`, id): 4 * reconBursts,
		fmt.Sprintf(`sum(sandbox_invocations_total{extension=%q})`, id):                      reconBursts,
		// The histogram arrives as classic bucket series.
		fmt.Sprintf(`sandbox_operation_duration_seconds_bucket{extension=%q,kind="fs",le="0.001"}`, id): 0,
		fmt.Sprintf(`sandbox_operation_duration_seconds_bucket{extension=%q,kind="fs",le="1"}`, id):     wantOps,
		fmt.Sprintf(`sandbox_operation_duration_seconds_bucket{extension=%q,kind="fs",le="+Inf"}`, id):  wantOps,
		fmt.Sprintf(`sandbox_operation_duration_seconds_count{extension=%q,kind="fs"}`, id):             wantOps,
		fmt.Sprintf(`count(sandbox_operation_duration_seconds_bucket{extension=%q,kind="fs"})`, id):     3,
	} {
		v, ok := queryValue(t, promURL, q)
		require.True(t, ok, "no data for %s", q)
		require.Equal(t, want, v, q)
	}
}

// queryValue runs an instant query and returns its only sample's value;
// ok is false when the query returned no series.
func queryValue(t *testing.T, promURL, q string) (v float64, ok bool) {
	t.Helper()
	res := query(t, promURL, q)
	if len(res) == 0 {
		return 0, false
	}
	require.Len(t, res, 1, "more than one series for %s", q)
	var sample struct {
		Value [2]any `json:"value"`
	}
	require.NoError(t, json.Unmarshal(res[0], &sample))
	s, isString := sample.Value[1].(string)
	require.True(t, isString, "value of %s: %s", q, res[0])
	v, err := strconv.ParseFloat(s, 64)
	require.NoError(t, err, q)
	return v, true
}
