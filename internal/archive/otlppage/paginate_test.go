package otlppage

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// twoResources: two resources of one scope, four spans each.
func twoResources() ptrace.Traces {
	td := ptrace.NewTraces()
	for r, ext := range []string{"ext-a", "ext-b"} {
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("extension.id", ext)
		ss := rs.ScopeSpans().AppendEmpty()
		ss.Scope().SetName("scope")
		for i := range 4 {
			s := ss.Spans().AppendEmpty()
			s.SetTraceID(pcommon.TraceID{byte(i % 2), 1})
			s.SetSpanID(pcommon.SpanID{byte(r*10 + i + 1), 1})
			s.SetName("op")
		}
	}
	return td
}

// spanIDs lists td's span ids in order.
func spanIDs(td ptrace.Traces) []pcommon.SpanID {
	var ids []pcommon.SpanID
	for _, rs := range td.ResourceSpans().All() {
		for _, ss := range rs.ScopeSpans().All() {
			for _, s := range ss.Spans().All() {
				ids = append(ids, s.SpanID())
			}
		}
	}
	return ids
}

// collectPages paginates raw and keeps a copy of every page.
func collectPages(raw []byte, target int) ([][]byte, []int32, error) {
	var pages [][]byte
	pos, err := Paginate(raw, target, func(p []byte) error {
		pages = append(pages, bytes.Clone(p))
		return nil
	})
	return pages, pos, err
}

func TestOnePageReencodesTheBatchExactly(t *testing.T) {
	td := twoResources()
	raw, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	require.NoError(t, err)
	whole, pos, err := collectPages(raw, 128<<10)
	require.NoError(t, err)
	require.Len(t, whole, 1)
	assert.Equal(t, []int32{0, 0, 0, 0, 0, 0, 0, 0}, pos)
	back, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(whole[0])
	require.NoError(t, err)
	assert.Equal(t, td, back)
}

func TestSmallPagesKeepResourceScopeAndOrder(t *testing.T) {
	td := twoResources()
	raw, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	require.NoError(t, err)
	// Pages of about two spans: every page decodes on its own, resource
	// and scope travel with the spans, nothing is lost or reordered.
	pages, pos, err := collectPages(raw, 90)
	require.NoError(t, err)
	require.Greater(t, len(pages), 3)
	require.Len(t, pos, 8)
	var got []pcommon.SpanID
	for i, p := range pages {
		pt, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(p)
		require.NoError(t, err, "page %d", i)
		for _, rs := range pt.ResourceSpans().All() {
			_, ok := rs.Resource().Attributes().Get("extension.id")
			assert.True(t, ok, "resource kept on page %d", i)
			assert.Equal(t, "scope", rs.ScopeSpans().At(0).Scope().Name())
		}
		for _, id := range spanIDs(pt) {
			assert.Equal(t, int32(i), pos[len(got)], "span %d", len(got))
			got = append(got, id)
		}
	}
	assert.Equal(t, spanIDs(td), got)
}

func TestMalformedInputIsRefused(t *testing.T) {
	_, _, err := collectPages([]byte{0x0a, 0xff}, 1024)
	assert.ErrorIs(t, err, ErrMalformed)
	_, _, err = collectPages([]byte{0x0a, 0x02, 0x12, 0x05}, 1024)
	assert.ErrorIs(t, err, ErrMalformed, "a scope longer than its resource")
}
