package scrubprocessor

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/sandwatch/sandwatch/processor/scrubprocessor/internal/metadata"

	"github.com/sandwatch/sandwatch/processor/scrubprocessor/scrubtest"
)

// Agent tool arguments and results are JSON strings: every built-in
// rule's sample planted in each, plain and with its first character
// written as a JSON \u escape, comes out redacted, and the value is still
// valid JSON.
func TestAgentJSONCarriersStayValid(t *testing.T) {
	samples, missing := scrubtest.Samples(scrubtest.NewGen(11), scrubtest.RuleNames(), 1)
	require.Empty(t, missing)
	ctx := context.Background()
	set := processortest.NewNopSettings(metadata.Type)
	tp, err := NewFactory().CreateTraces(ctx, set, createDefaultConfig(), new(consumertest.TracesSink))
	require.NoError(t, err)
	lp, err := NewFactory().CreateLogs(ctx, set, createDefaultConfig(), new(consumertest.LogsSink))
	require.NoError(t, err)
	require.NoError(t, tp.Start(ctx, componenttest.NewNopHost()))
	require.NoError(t, lp.Start(ctx, componenttest.NewNopHost()))
	t.Cleanup(func() { _ = tp.Shutdown(ctx); _ = lp.Shutdown(ctx) })
	checked := 0
	for carrier, key := range scrubtest.AgentCarriers {
		for _, s := range samples {
			for _, escaped := range []bool{false, true} {
				td, ld, _ := scrubtest.Plant(carrier, s.Text)
				v := carrierValue(td, ld, key)
				if escaped {
					if !scrubtest.IsJSONCarrier(carrier) || !strings.Contains(v.Str(), s.Secret) {
						continue
					}
					v.SetStr(strings.Replace(v.Str(), s.Secret, uEscapeFirst(s.Secret), 1))
				}
				// scrub mutates in place: td and ld are what it passed on.
				if td.SpanCount() > 0 {
					require.NoError(t, tp.ConsumeTraces(ctx, td))
				} else {
					require.NoError(t, lp.ConsumeLogs(ctx, ld))
				}
				out := carrierValue(td, ld, key).Str()
				name := fmt.Sprintf("%s in %s (escaped=%v)", s.Rule, carrier, escaped)
				assert.NotContains(t, out, s.Secret, name)
				if escaped {
					assert.NotContains(t, out, uEscapeFirst(s.Secret), name)
				}
				if scrubtest.IsJSONCarrier(carrier) {
					assert.True(t, json.Valid([]byte(out)), "%s: not valid JSON: %s", name, out)
				}
				checked++
			}
		}
	}
	t.Logf("checked %d plantings (%d rules x %d agent carriers, plain and escaped)", checked, len(samples), len(scrubtest.AgentCarriers))
}

func carrierValue(td ptrace.Traces, ld plog.Logs, key string) pcommon.Value {
	if td.SpanCount() > 0 {
		rss := td.ResourceSpans()
		for i := 0; i < rss.Len(); i++ {
			spans := rss.At(i).ScopeSpans().At(0).Spans()
			for k := 0; k < spans.Len(); k++ {
				if v, ok := spans.At(k).Attributes().Get(key); ok {
					return v
				}
			}
		}
	}
	recs := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	for k := 0; k < recs.Len(); k++ {
		if v, ok := recs.At(k).Attributes().Get(key); ok {
			return v
		}
	}
	panic("carrier value not found: " + key)
}

func uEscapeFirst(s string) string {
	return fmt.Sprintf(`\u%04x`, s[0]) + s[1:]
}
