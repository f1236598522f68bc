package archive

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// The other traces an event names are indexed once each, under its type,
// bounded by maxLinkedTraces; ids that are not trace ids are skipped.
func TestAnomalyFinderLinkedBounded(t *testing.T) {
	f := AnomalyFinder{EventName: "sandbox.anomaly", TypeKey: "anomaly.type", ExtensionKey: "sandbox.extension.id",
		Linked: []LinkedTraces{{Key: "folded", Role: "folded"}, {Key: "related", Role: "related"}}}
	ld := plog.NewLogs()
	r := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	r.SetEventName("sandbox.anomaly")
	own := pcommon.TraceID{0xee}
	r.SetTraceID(own)
	r.SetSpanID(pcommon.SpanID{1})
	r.SetSeverityText("warn")
	r.SetTimestamp(42)
	r.Attributes().PutStr("anomaly.type", "volume_spike")
	r.Attributes().PutStr("sandbox.extension.id", "ext-1")
	r.Attributes().PutStr("related", "AB000000000000000000000000000001") // upper case
	folded := r.Attributes().PutEmptySlice("folded")
	folded.AppendEmpty().SetStr(TraceHex(own))                      // the event's own trace
	folded.AppendEmpty().SetStr("ab000000000000000000000000000001") // the related one again
	folded.AppendEmpty().SetStr("00000000000000000000000000000000") // the zero id
	folded.AppendEmpty().SetInt(7)
	for i := range 2 * maxLinkedTraces {
		folded.AppendEmpty().SetStr(fmt.Sprintf("%032x", i+1<<20))
	}
	raw, err := (&plog.ProtoMarshaler{}).MarshalLogs(ld)
	require.NoError(t, err)

	got := f.Find(&Batch{Kind: KindLogs, Raw: raw})
	require.Len(t, got, 1+maxLinkedTraces)
	require.Equal(t, AnomalyEntry{TraceID: TraceHex(own), SpanID: "0100000000000000", Type: "volume_spike",
		Extension: "ext-1", Severity: "warn", Time: 42}, got[0])
	require.Equal(t, AnomalyEntry{TraceID: "ab000000000000000000000000000001", Type: "volume_spike",
		Extension: "ext-1", Severity: "warn", Time: 42, Role: "folded"}, got[1])
	seen := map[string]bool{}
	for _, e := range got {
		require.False(t, seen[e.TraceID], e.TraceID)
		seen[e.TraceID] = true
	}
	require.Equal(t, fmt.Sprintf("%032x", maxLinkedTraces-2+1<<20), got[maxLinkedTraces].TraceID)
}
