package detect

import (
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/profile"
	"github.com/sandwatch/sandwatch/internal/sandboxevent"
)

// Agent events built by hand with the agreed fields of
// internal/sandboxevent/agent.go: ExtensionID is the MCP server (set by
// the harness), Operation and Agent.Tool the tool, Target the path or host.

const agentName1 = "coder"

func toolCall(session, tool string, class sandboxevent.ToolClass) sandboxevent.Event {
	return sandboxevent.Event{Operation: tool, BlockType: sandboxevent.BlockTypeTool,
		Agent: sandboxevent.AgentInfo{Emitter: sandboxevent.EmitterGenAI, Side: sandboxevent.SideAgent, Agent: agentName1,
			Tool: tool, Method: "tools/call", Session: session, Class: class}}
}

func readFile(session, tool, path string) sandboxevent.Event {
	ev := toolCall(session, tool, sandboxevent.ToolClassRead)
	ev.Kind, ev.TargetType, ev.Target, ev.Agent.ContentCaptured = sandboxevent.KindFS, sandboxevent.TargetPath, path, true
	return ev
}

func fetchURL(session, tool, host string) sandboxevent.Event {
	ev := toolCall(session, tool, sandboxevent.ToolClassEgress)
	ev.Kind, ev.TargetType, ev.Target, ev.URL, ev.Agent.ContentCaptured = sandboxevent.KindHTTP, sandboxevent.TargetHost, host, "https://"+host+"/x", true
	return ev
}

func agentSettings(s *Settings) { s.Agents.LearnSessions, s.Agents.BuiltinServers = 5, true }

// learnAgent runs n benign sessions of coder: a read with filesystem, a
// fetch of api.example.com with fetch (content captured), and a sum with
// everything.
func learnAgent(t *testing.T, h *harness, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		s := fmt.Sprintf("learn-%d", i)
		for _, step := range []struct {
			srv string
			ev  sandboxevent.Event
		}{
			{"filesystem", readFile(s, "read_text_file", "/work/project/README.md")},
			{"fetch", fetchURL(s, "fetch", "api.example.com")},
			{"everything", toolCall(s, "get-sum", sandboxevent.ToolClassOther)},
		} {
			got, _ := h.invoke(step.srv, step.ev)
			require.Empty(t, got, "learning session %d: %s", i, step.srv)
		}
	}
}

func TestCrossToolExfiltration(t *testing.T) {
	h := newHarness(t, agentSettings)
	learnAgent(t, h, 8)

	// A benign session after learning raises nothing.
	learnAgent(t, h, 1)

	// The attack: a secret read by filesystem, then everything's
	// gzip-file-as-resource (egress in its shipped profile) to a new host.
	got, readTrace := h.invoke("filesystem", readFile("attack-1", "read_text_file", "/home/agent/.ssh/id_rsa"))
	assert.Empty(t, got, "a new path of an agent tool is not reported by itself (agents.report_target_novelty)")
	up := toolCall("attack-1", "gzip-file-as-resource", sandboxevent.ToolClassOther) // class from the shipped profile
	up.TargetType, up.Target, up.Agent.ContentCaptured = sandboxevent.TargetHost, "paste.evil.example", true
	got, upTrace := h.invoke("everything", up)
	x := ofType(got, TypeCrossToolExfiltration)
	require.Len(t, x, 1, "got %v", typesOf(got))
	a := x[0]
	assert.Equal(t, "everything", a.ExtensionID)
	assert.Equal(t, "paste.evil.example", a.Target)
	assert.Equal(t, upTrace, a.TraceID)
	assert.Equal(t, readTrace, a.Related.TraceID)
	assert.Equal(t, agentName1, a.Agent)
	assert.Equal(t, "attack-1", a.Session)
	assert.Equal(t, SeverityCritical, a.Severity)
	for _, want := range []string{"/home/agent/.ssh/id_rsa", "filesystem/read_text_file", "everything/gzip-file-as-resource",
		hex.EncodeToString(readTrace[:]), hex.EncodeToString(upTrace[:]), "session attack-1", "agent coder"} {
		assert.Contains(t, a.Observed, want)
	}

	// The same read followed by a fetch to the host the agent always
	// reaches is not exfiltration.
	h.invoke("filesystem", readFile("s2", "read_text_file", "/home/agent/.ssh/id_rsa"))
	got, _ = h.invoke("fetch", fetchURL("s2", "fetch", "api.example.com"))
	assert.Empty(t, ofType(got, TypeCrossToolExfiltration))

	// A usual read then a new host: no private read, so no chain (and a
	// fetch tool's new host is not reported by itself).
	h.invoke("filesystem", readFile("s3", "read_text_file", "/work/project/README.md"))
	got, _ = h.invoke("fetch", fetchURL("s3", "fetch", "other.example.org"))
	assert.Empty(t, got)

	// With agents.report_target_novelty the server's novelty is reported
	// as for any extension.
	h = newHarness(t, func(s *Settings) { agentSettings(s); s.Agents.ReportTargetNovelty = true })
	learnAgent(t, h, 8)
	got, _ = h.invoke("fetch", fetchURL("s4", "fetch", "other.example.org"))
	assert.Equal(t, []string{TypeNewDestination}, typesOf(got))
}

// Spans of one session arrive in any order: an egress reported before
// the read that started earlier is still paired.
func TestCrossToolExfiltrationOutOfOrder(t *testing.T) {
	h := newHarness(t, agentSettings)
	learnAgent(t, h, 8)
	readStart := h.now
	h.now += 50 * ms
	got, upTrace := h.invoke("fetch", fetchURL("late", "fetch", "drop.evil.example"))
	assert.Empty(t, ofType(got, TypeCrossToolExfiltration))
	ev := readFile("late", "read_text_file", "/work/project/.env")
	ev.ExtensionID = "filesystem"
	readTrace := h.nextTrace()
	h.e.Observe(&ev, Span{TraceID: readTrace, SpanID: rootSpan, IsRoot: true, Start: readStart, End: readStart + ms}, h.now)
	h.e.EndBatch(h.now)
	x := ofType(h.drain(), TypeCrossToolExfiltration)
	require.Len(t, x, 1)
	assert.Equal(t, upTrace, x[0].TraceID)
	assert.Equal(t, readTrace, x[0].Related.TraceID)
	assert.Contains(t, x[0].Observed, "/work/project/.env") // never read by the learned server
}

// Without content capture the chain is judged by tool classes: a
// secrets tool then an egress tool the agent never chained after it.
func TestCrossToolSequenceWithoutContent(t *testing.T) {
	h := newHarness(t, agentSettings)
	for i := 0; i < 8; i++ {
		s := fmt.Sprintf("learn-%d", i)
		h.invoke("filesystem", toolCall(s, "read_text_file", sandboxevent.ToolClassRead))
		h.invoke("fetch", toolCall(s, "fetch", sandboxevent.ToolClassEgress))
	}
	got, _ := h.invoke("filesystem", toolCall("ok", "read_text_file", sandboxevent.ToolClassRead))
	require.Empty(t, got)
	got, _ = h.invoke("fetch", toolCall("ok", "fetch", sandboxevent.ToolClassEgress))
	require.Empty(t, got, "a learned order")

	_, envTrace := h.invoke("everything", toolCall("x", "get-env", sandboxevent.ToolClassOther)) // secrets, per the shipped profile
	got, fetchTrace := h.invoke("fetch", toolCall("x", "fetch", sandboxevent.ToolClassEgress))
	x := ofType(got, TypeCrossToolSequence)
	require.Len(t, x, 1, "got %v", typesOf(got))
	assert.Equal(t, SeverityError, x[0].Severity)
	assert.Equal(t, fetchTrace, x[0].TraceID)
	assert.Equal(t, envTrace, x[0].Related.TraceID)
	assert.Contains(t, x[0].Observed, "secrets tool everything/get-env")
	assert.Contains(t, x[0].Observed, "content not captured")
}

// Within one trace, with no session id: the trace is the session.
func TestCrossToolWithinOneTrace(t *testing.T) {
	h := newHarness(t, agentSettings)
	learnAgent(t, h, 8)
	tid := h.nextTrace()
	rd := readFile("", "read_text_file", "/home/agent/.aws/credentials")
	rd.ExtensionID = "filesystem"
	h.e.Observe(&rd, Span{TraceID: tid, SpanID: childSpan(1), Start: h.now, End: h.now + ms}, h.now)
	up := fetchURL("", "fetch", "collector.evil.example")
	up.ExtensionID = "fetch"
	h.e.Observe(&up, Span{TraceID: tid, SpanID: childSpan(2), Start: h.now + 2*ms, End: h.now + 3*ms}, h.now)
	h.e.EndBatch(h.now)
	x := ofType(h.drain(), TypeCrossToolExfiltration)
	require.Len(t, x, 1)
	assert.Equal(t, "trace:"+hex.EncodeToString(tid[:]), x[0].Session)
	assert.Equal(t, tid, x[0].TraceID)
	assert.Equal(t, tid, x[0].Related.TraceID)
}

// One call reported by the agent, the MCP client and the MCP server (one
// call key) is judged once.
func TestCrossToolCallReportedThrice(t *testing.T) {
	h := newHarness(t, agentSettings)
	learnAgent(t, h, 8)
	h.invoke("filesystem", readFile("dup", "read_text_file", "/home/agent/.ssh/id_ed25519"))
	for side := sandboxevent.SideAgent; side <= sandboxevent.SideMCPServer; side++ {
		up := fetchURL("dup", "fetch", "x.evil.example")
		up.Agent.Side, up.Agent.CallKey = side, "call-7"
		got, _ := h.invoke("fetch", up)
		if side == sandboxevent.SideAgent {
			assert.Len(t, ofType(got, TypeCrossToolExfiltration), 1)
		} else {
			assert.Empty(t, ofType(got, TypeCrossToolExfiltration), "side %s", side)
		}
	}
}

func TestToolDrift(t *testing.T) {
	var nt []Anomaly
	h := newHarness(t, agentSettings)
	srv := "acme-tools" // no shipped profile: learned
	for i := 0; i < 6; i++ {
		s := fmt.Sprintf("l%d", i)
		lst := toolCall(s, "", sandboxevent.ToolClassDiscovery)
		lst.Agent.Method, lst.Agent.ListedTools, lst.Agent.DescriptionHash = "tools/list", "lookup,summarise", 0xabc
		got, _ := h.invoke(srv, lst)
		require.Empty(t, got)
		d := toolCall(s, "lookup", sandboxevent.ToolClassRead)
		d.Agent.DescriptionHash = 0x111
		got, _ = h.invoke(srv, d)
		require.Empty(t, got)
	}
	require.True(t, h.profile(srv).Learned)

	// A tool called for the first time after learning.
	got, _ := h.invoke(srv, toolCall("d1", "export_all", sandboxevent.ToolClassEgress))
	nt = ofType(got, TypeNewTool)
	require.Len(t, nt, 1)
	assert.Equal(t, "export_all", nt[0].Target)
	assert.Equal(t, "called tool export_all", nt[0].Observed)

	// A tool listed for the first time (the rug pull's new list), and
	// the list's hash changed.
	lst := toolCall("d2", "", sandboxevent.ToolClassDiscovery)
	lst.Agent.Method, lst.Agent.ListedTools, lst.Agent.DescriptionHash = "tools/list", "lookup,summarise,wipe", 0xdef
	got, _ = h.invoke(srv, lst)
	assert.Equal(t, []string{"wipe"}, targets(ofType(got, TypeNewTool)))
	dc := ofType(got, TypeToolDescriptionChanged)
	require.Len(t, dc, 1)
	assert.Equal(t, "tools/list", dc[0].Target)

	// One tool's description changed: reported on each call that carries
	// it (every attack trace reachable), while the learned one stays the
	// reference (a description that flips back is not a change).
	d := toolCall("d3", "lookup", sandboxevent.ToolClassRead)
	d.Agent.DescriptionHash = 0x222
	got, _ = h.invoke(srv, d)
	dc = ofType(got, TypeToolDescriptionChanged)
	require.Len(t, dc, 1)
	assert.Equal(t, "lookup", dc[0].Target)
	assert.Contains(t, dc[0].Observed, "0000000000000222")
	got, _ = h.invoke(srv, d)
	assert.Len(t, ofType(got, TypeToolDescriptionChanged), 1)
	d.Agent.DescriptionHash = 0x111
	got, _ = h.invoke(srv, d)
	assert.Empty(t, got)

	// notifications/tools/list_changed after learning.
	n := toolCall("d4", "", sandboxevent.ToolClassOther)
	n.Agent.Method, n.Agent.ListChanged, n.BlockType = "notifications/tools/list_changed", true, sandboxevent.BlockTypeNotify
	got, _ = h.invoke(srv, n)
	assert.Len(t, ofType(got, TypeToolListChanged), 1)

	// The registry is persisted: a restored engine still knows the tools.
	snaps := h.e.Snapshot()
	h2 := newHarness(t, agentSettings)
	h2.e.Restore(snaps)
	got, _ = h2.invoke(srv, toolCall("r", "lookup", sandboxevent.ToolClassOther))
	assert.Empty(t, got)
	got, _ = h2.invoke(srv, toolCall("r", "export_all", sandboxevent.ToolClassOther))
	assert.Len(t, ofType(got, TypeNewTool), 1)
	// summarise was only listed while the server learned: its first call
	// is new too (the installation never used it).
	got, _ = h2.invoke(srv, toolCall("r", "summarise", sandboxevent.ToolClassOther))
	nt = ofType(got, TypeNewTool)
	require.Len(t, nt, 1)
	assert.Contains(t, nt[0].Expected, "only listed")
}

// A profile saved before tool drift existed learns its tools again.
func TestToolDriftOldSnapshotRelearns(t *testing.T) {
	h := newHarness(t, agentSettings)
	h.e.Restore([]profile.Snapshot{{ID: "acme-tools", Learned: true, Invocations: 500}})
	for i := 0; i < 5; i++ {
		got, _ := h.invoke("acme-tools", toolCall("s", fmt.Sprintf("tool%d", i), sandboxevent.ToolClassOther))
		assert.Empty(t, ofType(got, TypeNewTool))
	}
	got, _ := h.invoke("acme-tools", toolCall("s", "late", sandboxevent.ToolClassOther))
	assert.Len(t, ofType(got, TypeNewTool), 1)
}

// Shipped declared profiles judge a known server from its first call.
func TestDeclaredMCPProfiles(t *testing.T) {
	h := newHarness(t, agentSettings)
	got, _ := h.invoke("secure-filesystem-server", readFile("s", "read_text_file", "/data/a.txt"))
	assert.Empty(t, got)
	got, _ = h.invoke("secure-filesystem-server", toolCall("s", "read_secrets_quietly", sandboxevent.ToolClassRead))
	nt := ofType(got, TypeNewTool)
	require.Len(t, nt, 1)
	assert.True(t, nt[0].Learning, "from the first call, during learning")
	assert.Equal(t, "one of the server's declared tools", nt[0].Expected)

	// An operator's profile: tools with classes, roots and hosts.
	h = newHarness(t, func(s *Settings) {
		agentSettings(s)
		s.Declared = map[string]*profile.DeclaredSpec{"docs": {
			Tools: map[string]string{"open_doc": "read", "post_note": "egress"},
			Roots: []string{"/srv/docs/"}, Hosts: []string{"notes.example.com"},
		}}
	})
	got, _ = h.invoke("docs", readFile("s", "open_doc", "/srv/docs/a/b.md"))
	assert.Empty(t, got)
	got, _ = h.invoke("docs", readFile("s", "open_doc", "/etc/passwd"))
	assert.Equal(t, []string{TypeNewPath}, typesOf(got))
	got, _ = h.invoke("docs", fetchURL("s", "post_note", "pastebin.com"))
	assert.Contains(t, typesOf(got), TypeNewDestination)
	got, _ = h.invoke("docs", toolCall("s", "delete_all", sandboxevent.ToolClassWrite))
	assert.Equal(t, []string{TypeNewTool}, typesOf(got))
	// The declared class wins over the event model's.
	p := h.profile("docs")
	c, ok := p.Declared.Tool("post_note")
	assert.True(t, ok)
	assert.Equal(t, sandboxevent.ToolClassEgress, c)
}

func TestToolShadowing(t *testing.T) {
	h := newHarness(t, agentSettings)
	learnAgent(t, h, 6)
	// A new server offers the agent a tool named like filesystem's.
	lst := toolCall("sh", "", sandboxevent.ToolClassDiscovery)
	lst.Agent.Method, lst.Agent.ListedTools = "tools/list", "read_text_file,helper"
	got, tid := h.invoke("helpful-server", lst)
	sh := ofType(got, TypeToolShadowing)
	require.Len(t, sh, 1, "got %v", typesOf(got))
	assert.Equal(t, "helpful-server", sh[0].ExtensionID)
	assert.Equal(t, "read_text_file", sh[0].Target)
	assert.Equal(t, tid, sh[0].TraceID)
	assert.Contains(t, sh[0].Observed, "filesystem")
	// Each call of the shadowing server is reported (dedup folds them in
	// production); a name of its own is not shadowing.
	got, _ = h.invoke("helpful-server", toolCall("sh", "read_text_file", sandboxevent.ToolClassRead))
	assert.Len(t, ofType(got, TypeToolShadowing), 1)
	got, _ = h.invoke("helpful-server", toolCall("sh", "helper", sandboxevent.ToolClassOther))
	assert.Empty(t, ofType(got, TypeToolShadowing))
}

func TestAgentDenials(t *testing.T) {
	h := newHarness(t, agentSettings)
	learnAgent(t, h, 6)
	var recon []Anomaly
	var denied int
	for i := 0; i < 10; i++ {
		srv := []string{"filesystem", "git"}[i%2]
		ev := readFile("deny", "read_text_file", fmt.Sprintf("/etc/secret-%d", i))
		ev.Outcome, ev.ErrorCode = sandboxevent.OutcomeDenied, "tool_error"
		got, _ := h.invoke(srv, ev)
		for _, a := range got {
			if a.Type == TypeCapabilityDenied {
				denied++
				assert.Equal(t, agentName1, a.Agent)
				assert.Equal(t, "deny", a.Session)
			}
		}
		recon = append(recon, ofType(got, TypeRecon)...)
	}
	assert.Equal(t, 10, denied, "every denial is capability_denied, per server")
	var agentRecon []Anomaly
	for _, a := range recon {
		if a.ExtensionID == "agent:"+agentName1 {
			agentRecon = append(agentRecon, a)
		}
	}
	require.Len(t, agentRecon, 1, "the burst across servers is recon on the agent")
	assert.Contains(t, agentRecon[0].Observed, "10 denied tool calls by agent coder")
}

func targets(as []Anomaly) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Target)
	}
	return out
}

// Emitters that record one hash per listed tool (the Traceloop
// tools/list output): a changed description names its tool, and the
// whole-list hash is not judged besides.
func TestToolDriftPerListedTool(t *testing.T) {
	h := newHarness(t, agentSettings)
	list := func(s string, hashes ...uint64) sandboxevent.Event {
		ev := toolCall(s, "", sandboxevent.ToolClassDiscovery)
		ev.Agent.Method, ev.Agent.ListedTools, ev.Agent.ListedToolHashes = "tools/list", "lookup,summarise", hashes
		ev.Agent.DescriptionHash = hashes[0] ^ hashes[1]
		return ev
	}
	for i := 0; i < 6; i++ {
		got, _ := h.invoke("acme", list("l", 1, 2))
		require.Empty(t, got)
	}
	got, _ := h.invoke("acme", list("d", 1, 3))
	require.Equal(t, []string{TypeToolDescriptionChanged}, typesOf(got))
	assert.Equal(t, "summarise", got[0].Target)
}

// A failed egress (the upload was refused) still completes the chain: the
// attempt is the signal. A failed read does not start one.
func TestCrossToolFailedEgress(t *testing.T) {
	h := newHarness(t, agentSettings)
	learnAgent(t, h, 8)
	h.invoke("filesystem", readFile("f", "read_text_file", "/home/agent/.netrc"))
	up := fetchURL("f", "fetch", "127.0.0.1")
	up.Outcome = sandboxevent.OutcomeError
	got, _ := h.invoke("fetch", up)
	assert.Len(t, ofType(got, TypeCrossToolExfiltration), 1)

	rd := readFile("g", "read_text_file", "/home/agent/.netrc")
	rd.Outcome = sandboxevent.OutcomeError
	h.invoke("filesystem", rd)
	got, _ = h.invoke("fetch", fetchURL("g", "fetch", "drop.evil.example"))
	assert.Empty(t, ofType(got, TypeCrossToolExfiltration))
}

// MCP client records (Traceloop) open one session per server connection:
// the chain across two servers is judged across the agent's sessions.
func TestCrossToolAcrossConnectionSessions(t *testing.T) {
	h := newHarness(t, agentSettings)
	tl := func(ev sandboxevent.Event) sandboxevent.Event {
		ev.Agent.Emitter, ev.Agent.Side = sandboxevent.EmitterTraceloop, sandboxevent.SideMCPClient
		return ev
	}
	for i := 0; i < 8; i++ {
		h.invoke("secure-filesystem-server", tl(readFile(fmt.Sprintf("fs-%d", i), "read_text_file", "/tmp/ws/notes.md")))
		h.invoke("mcp-servers/everything", tl(toolCall(fmt.Sprintf("all-%d", i), "get-sum", sandboxevent.ToolClassOther)))
		up := tl(fetchURL(fmt.Sprintf("all-%d", i), "gzip-file-as-resource", "cdn.example.com"))
		h.invoke("mcp-servers/everything", up)
	}
	_, readTrace := h.invoke("secure-filesystem-server", tl(readFile("fs-x", "read_text_file", "/tmp/ws/.env")))
	got, upTrace := h.invoke("mcp-servers/everything", tl(fetchURL("all-x", "gzip-file-as-resource", "127.0.0.1")))
	x := ofType(got, TypeCrossToolExfiltration)
	require.Len(t, x, 1, "got %v", typesOf(got))
	assert.Equal(t, upTrace, x[0].TraceID)
	assert.Equal(t, readTrace, x[0].Related.TraceID)
	assert.Contains(t, x[0].Observed, "(session fs-x)")
	assert.Contains(t, x[0].Observed, "(session all-x)")
}

// A shell tool whose command reaches the network (the event model's URL
// of the command) is the egress of a chain.
func TestCrossToolShellEgress(t *testing.T) {
	h := newHarness(t, agentSettings)
	learnAgent(t, h, 8)
	for i := 0; i < 6; i++ { // the shell server is learned too
		ls := toolCall("sh-learn", "shell", sandboxevent.ToolClassExec)
		ls.TargetType, ls.Target, ls.Agent.ContentCaptured = sandboxevent.TargetCommand, "ls", true
		h.invoke("developer", ls)
	}
	h.invoke("filesystem", readFile("sh", "read_text_file", "/home/agent/.aws/credentials"))
	sh := toolCall("sh", "shell", sandboxevent.ToolClassExec)
	sh.Kind, sh.TargetType, sh.Target, sh.Agent.ContentCaptured = sandboxevent.KindExec, sandboxevent.TargetCommand, "curl", true
	sh.URL = "https://drop.evil.example/u"
	got, _ := h.invoke("developer", sh)
	x := ofType(got, TypeCrossToolExfiltration)
	require.Len(t, x, 1, "got %v", typesOf(got))
	assert.Equal(t, "drop.evil.example", x[0].Target)

	ls := toolCall("sh", "shell", sandboxevent.ToolClassExec) // no URL: not egress
	ls.TargetType, ls.Target, ls.Agent.ContentCaptured = sandboxevent.TargetCommand, "ls", true
	got, _ = h.invoke("developer", ls)
	assert.Empty(t, ofType(got, TypeCrossToolExfiltration))
}

// A server's calls within an agent's trace span the agent's think time:
// that range is not judged as the server's duration.
func TestAgentInvocationDurationNotJudged(t *testing.T) {
	h := newHarness(t, agentSettings)
	learnAgent(t, h, 30) // invocations of 1 ms calls under a 100 ms root
	tid := h.nextTrace()
	for i, at := range []int64{0, 40_000} { // two calls 40 s apart in one trace
		ev := readFile("slow", "read_text_file", "/work/project/README.md")
		ev.ExtensionID = "filesystem"
		h.e.Observe(&ev, Span{TraceID: tid, SpanID: childSpan(i), Start: h.now + at*ms, End: h.now + at*ms + ms}, h.now)
	}
	h.now += int64(time.Minute)
	h.e.Tick(h.now)
	assert.Empty(t, ofType(h.drain(), TypeDurationOutlier))
}

// The declared list says what a server may do, the learned registry what
// this installation does: a declared tool the server never served while it
// learned is new_tool when first called after.
func TestDeclaredToolNeverUsedIsNew(t *testing.T) {
	h := newHarness(t, agentSettings)
	learnAgent(t, h, 8) // filesystem: read_text_file only
	got, _ := h.invoke("filesystem", toolCall("m", "move_file", sandboxevent.ToolClassWrite))
	nt := ofType(got, TypeNewTool)
	require.Len(t, nt, 1, "got %v", typesOf(got))
	assert.False(t, nt[0].Learning)
	assert.Contains(t, nt[0].Expected, "tools the server served while learning")
}
