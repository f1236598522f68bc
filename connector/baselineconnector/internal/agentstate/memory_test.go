package agentstate

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/profile"
)

// heapPer builds n values with build and returns the heap bytes each
// one holds (kept alive until measured).
func heapPer(n int, build func(i int) any) float64 {
	keep := make([]any, n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range keep {
		keep[i] = build(i)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(keep)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
}

// An agent profile and a session filled to their caps (default limits,
// names of realistic length, targets at the 256-byte clip), so the
// README's memory figures are measured, not guessed.
func TestMemoryAtCaps(t *testing.T) {
	lim := DefaultLimits()
	agent := heapPer(50, func(i int) any {
		a := &Agent{Name: fmt.Sprintf("agent-%d", i)}
		for j := 0; j < lim.Tools; j++ {
			n := fmt.Sprintf("server-%02d\x00tool_name_%03d", j%16, j)
			a.Tools.Add(profile.Hash(n), n, lim.Tools)
			a.Served(fmt.Sprintf("tool_name_%03d", j), fmt.Sprintf("server-%02d", j%16), lim.Tools, true)
		}
		for j := 0; j < lim.Pairs; j++ {
			n := fmt.Sprintf("server-%02d/read_tool_%03d>server-%02d/egress_%03d", j%7, j, j%5, j)
			a.Pairs.Add(profile.Hash(n), n, lim.Pairs)
		}
		for j := 0; j < lim.Hosts; j++ {
			n := fmt.Sprintf("api-%d.service-%d.example.com", j, i)
			a.Hosts.Add(profile.Hash(n), n, lim.Hosts)
		}
		require.Equal(t, lim.Tools, a.ToolNames())
		return a
	})
	long := strings.Repeat("p", 300)
	session := heapPer(500, func(i int) any {
		s := &Session{Agent: "agent"}
		for j := 0; j < 8; j++ {
			c := Call{Server: "filesystem", Tool: "read_text_file", Target: long, Private: true}
			s.AddRead(c, 8)
			c.Target = "host.example.com"
			s.AddEgress(c, 8)
		}
		for j := 0; j < 2*callKeys; j++ {
			s.SeenCall(fmt.Sprintf("call-%d", j))
		}
		return s
	})
	registry := heapPer(200, func(i int) any {
		var r profile.Tools
		for j := 0; j < profile.DefaultMaxTools; j++ {
			r.Add(fmt.Sprintf("some_server_tool_name_%03d", j), uint64(j)+1, profile.DefaultMaxTools)
		}
		return &r
	})
	t.Logf("memory at caps: agent profile %.1f KiB (tools %d, pairs %d, hosts %d, shadowing names %d); session %.1f KiB (8 reads with 256-byte targets, 8 egress, %d call keys); MCP server tool registry %.1f KiB (%d tools)",
		agent/1024, lim.Tools, lim.Pairs, lim.Hosts, lim.Tools, session/1024, callKeys, registry/1024, profile.DefaultMaxTools)
	assert.Less(t, agent, 128.0*1024, "agent profile at caps")
	assert.Less(t, registry, 48.0*1024, "tool registry at caps")
	assert.Less(t, session, 8.0*1024, "session at caps")
}
