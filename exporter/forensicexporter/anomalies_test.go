package forensicexporter

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/sandwatch/sandwatch/internal/archive"
)

// An anomaly record as the baseline connector writes it (output.go) is
// indexed by its trace id when the exporter archives it.
func TestAnomalyEventsIndexed(t *testing.T) {
	dir := t.TempDir()
	cfg := createDefaultConfig().(*Config)
	cfg.Store = "file://" + dir
	cfg.QueueConfig = configoptional.None[QueueBatchConfigAlias]()
	set, _ := testSettings(t)
	le, err := NewFactory().CreateLogs(context.Background(), set, cfg)
	require.NoError(t, err)
	require.NoError(t, le.Start(context.Background(), componenttest.NewNopHost()))

	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "sandwatch")
	r := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	r.SetEventName("sandbox.anomaly")
	r.SetTraceID(pcommon.TraceID{0xab, 1})
	r.SetSpanID(pcommon.SpanID{0xcd, 2})
	r.SetSeverityText("critical")
	r.Attributes().PutStr("anomaly.type", "exfiltration")
	r.Attributes().PutStr("sandbox.extension.id", "weather-001")
	require.NoError(t, le.ConsumeLogs(context.Background(), ld))
	require.NoError(t, le.Shutdown(context.Background()))

	b, local, err := archive.Open(context.Background(), "file://"+dir, archive.S3Options{})
	require.NoError(t, err)
	defer b.Close()
	var got []archive.AnomalyEntry
	require.NoError(t, (&archive.Reader{Bucket: b, LocalDir: local}).Anomalies(context.Background(), archive.Window{},
		func(a archive.AnomalyEntry) error { got = append(got, a); return nil }))
	require.Len(t, got, 1)
	require.Equal(t, "ab010000000000000000000000000000", got[0].TraceID)
	require.Equal(t, "cd02000000000000", got[0].SpanID)
	require.Equal(t, "exfiltration", got[0].Type)
	require.Equal(t, "weather-001", got[0].Extension)
	require.Equal(t, "critical", got[0].Severity)
}
