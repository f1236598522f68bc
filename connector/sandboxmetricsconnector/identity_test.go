package sandboxmetricsconnector

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sandwatch/sandwatch/internal/identitymark"
	"github.com/sandwatch/sandwatch/internal/samples"
)

// Spans and log records the identity processor flagged are never counted
// as the extension they claim; the same data unflagged is.
func TestFlaggedRecordsNotCounted(t *testing.T) {
	c, sink := newTestConnector(t, createDefaultConfig())
	ctx := context.Background()
	td := samples.Traces(t, "goose.json")
	for _, rs := range td.ResourceSpans().All() {
		rs.Resource().Attributes().PutBool(identitymark.Flagged, true)
		for _, ss := range rs.ScopeSpans().All() {
			for _, s := range ss.Spans().All() {
				s.Attributes().PutStr(identitymark.Mismatch, identitymark.ReasonExtensionNotBound)
			}
		}
	}
	ld := samples.Logs(t, "container_monitor.json")
	for _, rl := range ld.ResourceLogs().All() {
		rl.Resource().Attributes().PutBool(identitymark.Flagged, true)
		for _, sl := range rl.ScopeLogs().All() {
			for _, r := range sl.LogRecords().All() {
				r.Attributes().PutStr(identitymark.Mismatch, identitymark.ReasonForgedStamp)
			}
		}
	}
	require.NoError(t, c.ConsumeTraces(ctx, td))
	require.NoError(t, c.ConsumeLogs(ctx, ld))
	c.flush(ctx)
	for _, md := range sink.AllMetrics() {
		for k, v := range points(md) {
			assert.Zero(t, v, "flagged data counted: %s", k)
		}
	}

	sink.Reset()
	require.NoError(t, c.ConsumeTraces(ctx, samples.Traces(t, "goose.json")))
	c.flush(ctx)
	require.Len(t, sink.AllMetrics(), 1)
	assert.Equal(t, 1.0, points(sink.AllMetrics()[0])["sandbox.operations{extension=weather-sync,kind=http,outcome=ok}"])
}
