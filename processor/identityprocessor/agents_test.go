package identityprocessor

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/identitymark"
	"github.com/sandwatch/sandwatch/internal/samples"
	"github.com/sandwatch/sandwatch/internal/sandboxevent"
	"github.com/sandwatch/sandwatch/processor/identityprocessor/internal/binding"
)

// reversed copies td's one resource with its spans in reverse order: what
// a sender (or a retry) may send, tool spans before their session's
// initialize.
func reversed(td ptrace.Traces) ptrace.Traces {
	out := ptrace.NewTraces()
	rs := out.ResourceSpans().AppendEmpty()
	td.ResourceSpans().At(0).Resource().CopyTo(rs.Resource())
	spans := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	dst := rs.ScopeSpans().AppendEmpty().Spans()
	for i := spans.Len() - 1; i >= 0; i-- {
		spans.At(i).CopyTo(dst.AppendEmpty())
	}
	return out
}

// Traceloop's tool spans name no server; their session's initialize span
// does (serverInfo.name). The downstream consumers learn a batch's
// sessions before they classify it, so the identity check must too: a
// credential bound to the filesystem server must not report the
// everything server's tool calls by putting them before the initialize
// span (traceloop_mcp.json, recorded from the real npm servers and
// @traceloop/instrumentation-mcp 0.27.0).
func TestTraceloopToolSpansAreJudgedAsTheirServers(t *testing.T) {
	const fsServer, allServer = "secure-filesystem-server", "mcp-servers/everything"
	cfg := createDefaultConfig()
	cfg.Bindings = []binding.Entry{{Name: "fs-runner", TokensSHA256: []string{digest("token-fs")}, Extensions: []string{fsServer}}}
	p := newTestProcessor(t, cfg)

	td := reversed(samples.Traces(t, "traceloop_mcp.json"))
	// What a downstream consumer attributes each span to (a classifier of
	// its own, as the connectors have).
	var exts []string
	sandboxevent.MustNew(sandboxevent.Config{}).EachSpan(td, func(_ ptrace.Span, ev *sandboxevent.Event, _ ptrace.ResourceSpans, _ ptrace.ScopeSpans) {
		exts = append(exts, ev.ExtensionID)
	})

	out, err := p.processTraces(withToken("token-fs"), td)
	require.NoError(t, err)
	got := verdicts(out)
	require.Len(t, got, len(exts))
	var flagged, passed int
	for i, ext := range exts {
		switch ext {
		case allServer:
			assert.Equal(t, identitymark.ReasonExtensionNotBound, got[i], "span %d of %s", i, ext)
			flagged++
		case fsServer:
			assert.Empty(t, got[i], "span %d of %s", i, ext)
			passed++
		}
	}
	assert.GreaterOrEqual(t, flagged, 4, "the everything server's spans, tool calls included")
	assert.GreaterOrEqual(t, passed, 5, "the filesystem server's spans")
}
