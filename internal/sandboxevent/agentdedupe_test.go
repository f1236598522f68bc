package sandboxevent

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/samples"
)

// countCalls classifies spans in the given order and counts the calls a
// CallDeduper lets through, per extension and tool.
func countCalls(c *Classifier, d *CallDeduper, spans []ptrace.Span, rcs []*ResourceContext) map[string]int {
	got := map[string]int{}
	var ev Event
	for i, sp := range spans {
		c.ClassifySpan(sp, rcs[i], &ev)
		if IsCall(&ev) && !d.Repeat(&ev, sp.SpanID(), sp.ParentSpanID()) {
			got[ev.ExtensionID+"/"+ev.Operation]++
		}
	}
	return got
}

func flatten(c *Classifier, td ptrace.Traces) ([]ptrace.Span, []*ResourceContext) {
	var spans []ptrace.Span
	var rcs []*ResourceContext
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		rs := td.ResourceSpans().At(i)
		rc := &ResourceContext{}
		c.LoadResource(rs.Resource().Attributes(), rc)
		ss := rs.ScopeSpans().At(0).Spans()
		for k := 0; k < ss.Len(); k++ {
			spans = append(spans, ss.At(k))
			rcs = append(rcs, rc)
		}
	}
	return spans, rcs
}

func TestCallDedupeAcrossSides(t *testing.T) {
	c := MustNew(Config{})
	spans, rcs := flatten(c, samples.Traces(t, "mcp_semconv.json"))
	// Agent span, client span, server span of one read_text_file call: in
	// export order (child first within a process), and agent-first.
	order := []int{1, 0, 2, 3, 4, 5, 6, 7}
	var s []ptrace.Span
	var r []*ResourceContext
	for _, i := range order {
		s, r = append(s, spans[i]), append(r, rcs[i])
	}
	got := countCalls(c, NewCallDeduper(0), s, r)
	assert.Equal(t, map[string]int{
		"files.mcp.internal/read_text_file": 1, // the client span, exported before its parent
		"files-mcp/resources/read":          2, // file:// and postgres:// reads
		"files-mcp/write_file":              1,
	}, got)
	got = countCalls(c, NewCallDeduper(0), spans, rcs)
	assert.Equal(t, 1, got["ops-agent/read_text_file"]+got["files.mcp.internal/read_text_file"]+got["files-mcp/read_text_file"], "one call, counted once: %v", got)

	// mcp-go: the dispatcher span and its tool.<name> handler are one call.
	spans, rcs = flatten(c, samples.Traces(t, "mcp_go.json"))
	assert.Equal(t, map[string]int{"inventory-mcp/query_stock": 1, "inventory-mcp/delete_sku": 1}, countCalls(c, NewCallDeduper(0), spans, rcs))
}

func TestCallDedupeByKeyAndBound(t *testing.T) {
	d := NewCallDeduper(2)
	ev := Event{BlockType: BlockTypeTool, Agent: AgentInfo{Emitter: EmitterClaudeCode, CallKey: "toolu_A"}}
	assert.False(t, d.Repeat(&ev, pcommon.SpanID{}, pcommon.SpanID{}))
	assert.True(t, d.Repeat(&ev, pcommon.SpanID{}, pcommon.SpanID{}), "the log event and the span of one tool_use_id")
	for _, k := range []string{"toolu_B", "toolu_C"} {
		ev.Agent.CallKey = k
		assert.False(t, d.Repeat(&ev, pcommon.SpanID{}, pcommon.SpanID{}))
	}
	ev.Agent.CallKey = "toolu_A"
	assert.False(t, d.Repeat(&ev, pcommon.SpanID{}, pcommon.SpanID{}), "forgotten beyond the bound")
	assert.LessOrEqual(t, d.keys.count, 2)
}
