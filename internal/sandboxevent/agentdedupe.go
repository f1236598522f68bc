package sandboxevent

import (
	"encoding/binary"
	"hash/maphash"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// One tool call can be reported three times: by the agent (execute_tool
// span or tool log event), by the MCP client span and by the MCP server
// span; mcp-go adds a handler span under its dispatcher span. CallDeduper
// tells a consumer that counts calls (metrics, baselines) whether a record
// reports a call it has already counted. The archive keeps every record.
//
// A record is a repeat when
//   - its CallKey (gen_ai.tool.call.id, tool_use_id, call_id, or
//     jsonrpc.request.id within mcp.session.id) was counted, or
//   - it is a span whose parent is a counted call record (the MCP client
//     span under the agent's execute_tool span, the MCP server span under
//     the client span when params._meta propagation is on, mcp-go's
//     tool.<name> handler under its dispatcher), or
//   - it is a span that a counted call record named as its parent (the
//     same chain arriving child first, as one process exports it), or
//   - it is a span already seen (an exporter's retry of a batch).
//
// Limits: a chain of three arriving middle last (server, then agent, then
// client) is counted twice, since nothing links server and agent until
// the client arrives; without _meta propagation or a shared call key the
// MCP server's span cannot be linked to the client's at all, and both
// count. Memory is bounded: the last Max records of each kind are
// remembered (FIFO); a repeat that arrives after that counts again.

// CallDeduper is not safe for concurrent use.
type CallDeduper struct {
	seed    maphash.Seed
	keys    fifoSet // CallKeys counted
	spans   fifoSet // span IDs of counted call records (and their repeats)
	parents fifoSet // parent span IDs of counted call records
}

// DefaultDedupeMax is the number of calls CallDeduper remembers by default.
const DefaultDedupeMax = 32768

// NewCallDeduper remembers the last max calls (DefaultDedupeMax when max <= 0).
func NewCallDeduper(max int) *CallDeduper {
	if max <= 0 {
		max = DefaultDedupeMax
	}
	return &CallDeduper{seed: maphash.MakeSeed(), keys: newFIFOSet(max), spans: newFIFOSet(max), parents: newFIFOSet(max)}
}

// IsCall reports whether an event is a call to count: a tool call, a
// resource read or a prompt get (not a listing, notification, decision or
// the agent's own span).
func IsCall(ev *Event) bool {
	switch ev.BlockType {
	case BlockTypeTool, BlockTypeResource, BlockTypePrompt:
		return ev.IsAgent()
	}
	return false
}

// Repeat reports whether the call ev (span and parent IDs empty for a log
// record) was already counted, and remembers it either way.
func (d *CallDeduper) Repeat(ev *Event, span, parent pcommon.SpanID) bool {
	repeat := false
	if k := ev.Agent.CallKey; k != "" {
		h := maphash.String(d.seed, k)
		repeat = !d.keys.add(h)
	}
	if span.IsEmpty() {
		return repeat
	}
	sid := binary.LittleEndian.Uint64(span[:])
	pid := binary.LittleEndian.Uint64(parent[:])
	if !parent.IsEmpty() && d.spans.has(pid) {
		repeat = true
	}
	if d.parents.has(sid) {
		repeat = true
	}
	if !d.spans.add(sid) {
		repeat = true // the same span again: an exporter's retry
	}
	if !parent.IsEmpty() {
		d.parents.add(pid)
	}
	return repeat
}
