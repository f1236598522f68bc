package sandboxevent

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/sandwatch/sandwatch/internal/samples"
)

// Every byte-count convention the event model maps, read from samples.
func TestEgressBytesSamples(t *testing.T) {
	c := MustNew(Config{})
	type got struct {
		ext, target, version string
		kind                 Kind
		bytes                int64
	}
	var spans []got
	for _, ev := range classifyAllSpans(c, samples.Traces(t, "egress.json")) {
		spans = append(spans, got{ev.ExtensionID, ev.Target, ev.Version, ev.Kind, ev.EgressBytes})
	}
	assert.Equal(t, []got{
		{"backup-019", "storage.backup-19.example.com", "1.4.2", KindHTTP, 157286400}, // http.request.body.size (150 MiB)
		{"backup-019", "storage.backup-19.example.com", "", KindHTTP, 52428},          // content-length header, a string array
		{"backup-019", "10.0.4.9", "", KindNet, 8192},                                 // network.transmit.bytes
		{"sync-004", "api.sync.example.com", "2.0.0", KindHTTP, 2048},                 // pre-1.26 http.request_content_length, a string
		{"snmp-probe", "ingest.example.net", "0.9.1", KindHTTP, 4096},                 // wazero http_call, a double
	}, spans)
	logs := classifyAllLogs(c, samples.Logs(t, "container_monitor_egress.json"))
	assert.Len(t, logs, 1)
	assert.Equal(t, KindNet, logs[0].Kind)
	assert.EqualValues(t, 104857600, logs[0].EgressBytes, "container monitor bytes sent")
	assert.Equal(t, "1.3.0", logs[0].Version)
	assert.True(t, logs[0].IsEgress())

	var sent []int64
	for _, ev := range classifyAllLogs(c, samples.AuditLog(t, "container_monitor_audit.jsonl")) {
		sent = append(sent, ev.EgressBytes)
	}
	assert.Equal(t, []int64{512, 0, 0}, sent, "the JSON audit log's bytes_sent")
}

func TestByteCountHostile(t *testing.T) {
	for _, tc := range []struct {
		v    pcommon.Value
		want int64
	}{
		{pcommon.NewValueInt(-5), 0},
		{pcommon.NewValueInt(1 << 62), maxEgressBytes},
		{pcommon.NewValueDouble(-1), 0},
		{pcommon.NewValueStr("12x"), 0},
		{pcommon.NewValueStr(" 77 "), 77},
		{pcommon.NewValueStr("99999999999999999999999999"), maxEgressBytes},
		{pcommon.NewValueBool(true), 0},
		{pcommon.NewValueEmpty(), 0},
	} {
		assert.Equal(t, tc.want, byteCount(tc.v), tc.v.AsString())
	}
}
