package baselineconnector

import (
	"context"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/detect"
	"github.com/sandwatch/sandwatch/internal/samples"
)

// replay copies the recorded Traceloop sample (the real npm servers, see
// testdata/samples/AGENTS.md) as run n of the same harness: fresh trace
// and span ids (so fresh sessions), times shifted by n seconds, spans
// dropped or rewritten by edit (return false to drop).
func replay(t testing.TB, n uint32, edit func(name string, attrs pcommon.Map, st ptrace.Status) bool) (ptrace.Traces, map[string]pcommon.TraceID) {
	td := samples.Traces(t, "traceloop_mcp.json")
	byName := map[string]pcommon.TraceID{}
	remap8 := func(id pcommon.SpanID) pcommon.SpanID {
		if id.IsEmpty() {
			return id
		}
		binary.BigEndian.PutUint32(id[4:], binary.BigEndian.Uint32(id[4:])^(n*2654435761+1))
		return id
	}
	shift := pcommon.Timestamp(uint64(n) * uint64(time.Second))
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			sss.At(j).Spans().RemoveIf(func(sp ptrace.Span) bool {
				tid := sp.TraceID()
				binary.BigEndian.PutUint32(tid[12:], binary.BigEndian.Uint32(tid[12:])^(n+1))
				sp.SetTraceID(tid)
				sp.SetSpanID(remap8(sp.SpanID()))
				sp.SetParentSpanID(remap8(sp.ParentSpanID()))
				sp.SetStartTimestamp(sp.StartTimestamp() + shift)
				sp.SetEndTimestamp(sp.EndTimestamp() + shift)
				if edit != nil && !edit(sp.Name(), sp.Attributes(), sp.Status()) {
					return true
				}
				byName[sp.Name()] = tid
				return false
			})
		}
	}
	return td, byName
}

// rewrite replaces old with new in a string attribute.
func rewrite(attrs pcommon.Map, key, old, new string) {
	if v, ok := attrs.Get(key); ok {
		v.SetStr(strings.ReplaceAll(v.Str(), old, new))
	}
}

// benign is the recorded session pair without its attacks: no denied
// read, no get-env, and the upload reaches the host it always reaches.
func benign(name string, attrs pcommon.Map, st ptrace.Status) bool {
	in, _ := attrs.Get("traceloop.entity.input")
	if strings.Contains(in.Str(), "/etc/passwd") || name == "get-env.tool" || name == "resources/read.mcp" {
		return false
	}
	if name == "gzip-file-as-resource.tool" {
		rewrite(attrs, "traceloop.entity.input", "http://127.0.0.1:9/upload", "https://cdn.example.com/logo.png")
		rewrite(attrs, "traceloop.entity.output", `"fetch failed","is_error":true`, `"ok"`)
		st.SetCode(ptrace.StatusCodeOk)
		st.SetMessage("")
	}
	return true
}

// The agent detectors on real classified spans: the recorded Traceloop
// sessions of the real filesystem and everything servers, learned, then
// the attacks of the agent-detection issue rewritten into the same spans.
func TestAgentDetectorsOnRecordedTraceloopSpans(t *testing.T) {
	r := newRig(t, func(c *Config) {
		c.DedupInterval = 0
		c.LearnInvocations = 20
		c.Agents.LearnSessions = 10
	})
	for n := uint32(0); n < 30; n++ {
		td, _ := replay(t, n, benign)
		r.feed(td, plog.NewLogs())
		r.advance(time.Second)
	}
	require.Empty(t, r.records(), "learning raised anomalies")

	// Benign after learning: nothing.
	td, _ := replay(t, 100, benign)
	r.feed(td, plog.NewLogs())
	require.Empty(t, r.records())

	// A secret planted inside the allowed directory is read, then
	// gzip-file-as-resource fetches a URL on a host never seen before.
	td, traces := replay(t, 101, func(name string, attrs pcommon.Map, st ptrace.Status) bool {
		if !benign(name, attrs, st) {
			return false
		}
		rewrite(attrs, "traceloop.entity.input", "/tmp/mcpt/ws/docs/notes.md", "/tmp/mcpt/ws/.env")
		rewrite(attrs, "traceloop.entity.input", "https://cdn.example.com/logo.png", "http://127.0.0.1:8931/collect")
		return true
	})
	r.feed(td, plog.NewLogs())
	recs := r.records()
	x := ofType(recs, detect.TypeCrossToolExfiltration)
	require.Len(t, x, 1, "got %v", types(recs))
	assert.Equal(t, "mcp-servers/everything", x[0].Ext)
	assert.Equal(t, [16]byte(traces["gzip-file-as-resource.tool"]), x[0].TraceID)
	assert.Equal(t, "127.0.0.1", x[0].Target)
	r.reset()

	// get-env, then the same kind of fetch.
	td, traces = replay(t, 102, func(name string, attrs pcommon.Map, st ptrace.Status) bool {
		in, _ := attrs.Get("traceloop.entity.input")
		if strings.Contains(in.Str(), "/etc/passwd") || name == "resources/read.mcp" {
			return false
		}
		if name == "gzip-file-as-resource.tool" {
			rewrite(attrs, "traceloop.entity.input", "http://127.0.0.1:9/upload", "http://127.0.0.1:8931/collect")
		}
		return true
	})
	r.feed(td, plog.NewLogs())
	recs = r.records()
	x = ofType(recs, detect.TypeCrossToolExfiltration)
	require.Len(t, x, 1, "got %v", types(recs))
	assert.Equal(t, [16]byte(traces["gzip-file-as-resource.tool"]), x[0].TraceID)
	r.reset()

	// A read outside the allowed roots, denied by the server itself.
	td, traces = replay(t, 103, func(name string, attrs pcommon.Map, st ptrace.Status) bool {
		return name != "get-env.tool" && name != "resources/read.mcp" && name != "gzip-file-as-resource.tool"
	})
	r.feed(td, plog.NewLogs())
	recs = r.records()
	d := ofType(recs, detect.TypeCapabilityDenied)
	require.Len(t, d, 1, "got %v", types(recs))
	assert.Equal(t, "secure-filesystem-server", d[0].Ext)
	assert.Equal(t, [16]byte(traces["read_text_file.tool"]), d[0].TraceID)
}

// split moves the spans named name of td into a batch of their own.
func split(td ptrace.Traces, name string) ptrace.Traces {
	out := ptrace.NewTraces()
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		ors := out.ResourceSpans().AppendEmpty()
		rs.Resource().CopyTo(ors.Resource())
		oss := ors.ScopeSpans().AppendEmpty()
		for j := 0; j < rs.ScopeSpans().Len(); j++ {
			rs.ScopeSpans().At(j).Spans().RemoveIf(func(sp ptrace.Span) bool {
				if sp.Name() != name {
					return false
				}
				sp.CopyTo(oss.Spans().AppendEmpty())
				return true
			})
		}
	}
	return out
}

// Traceloop tool spans that arrive before their session's initialize span
// (another batch) are held until it names their server, then judged.
func TestAgentSpansHeldForTheirSession(t *testing.T) {
	r := newRig(t, func(c *Config) {
		c.DedupInterval = 0
		c.LearnInvocations = 20
		c.Agents.LearnSessions = 10
	})
	for n := uint32(0); n < 30; n++ {
		td, _ := replay(t, n, benign)
		r.feed(td, plog.NewLogs())
		r.advance(time.Second)
	}
	td, traces := replay(t, 101, func(name string, attrs pcommon.Map, st ptrace.Status) bool {
		if !benign(name, attrs, st) {
			return false
		}
		rewrite(attrs, "traceloop.entity.input", "/tmp/mcpt/ws/docs/notes.md", "/home/agent/.ssh/id_rsa")
		rewrite(attrs, "traceloop.entity.input", "https://cdn.example.com/logo.png", "http://127.0.0.1:8931/collect")
		return true
	})
	inits := split(td, "initialize.mcp")
	r.feed(td, plog.NewLogs()) // tools first: held
	require.Empty(t, ofType(r.records(), detect.TypeCrossToolExfiltration))
	assert.Positive(t, r.b.held.Len())
	r.advance(time.Second)
	r.feed(inits, plog.NewLogs())
	x := ofType(r.records(), detect.TypeCrossToolExfiltration)
	require.Len(t, x, 1, "got %v", types(r.records()))
	assert.Equal(t, [16]byte(traces["gzip-file-as-resource.tool"]), x[0].TraceID)
	assert.Zero(t, r.b.held.Len())

	// A session whose initialize never comes: released after session_wait.
	td, _ = replay(t, 102, benign)
	split(td, "initialize.mcp")
	r.feed(td, plog.NewLogs())
	require.Positive(t, r.b.held.Len())
	before := r.b.eng.C.Unattributed
	r.advance(6 * time.Second)
	r.b.tick(context.Background(), false)
	assert.Zero(t, r.b.held.Len())
	assert.Greater(t, r.b.eng.C.Unattributed, before)
}
