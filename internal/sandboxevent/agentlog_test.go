package sandboxevent

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
)

// codexToolResult is one codex.tool_result record as Codex's
// session_telemetry.rs writes it: no error attribute, the message of a
// failed call in output.
func codexToolResult(ld plog.Logs, success, output string) {
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "codex_exec")
	rec := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	at := rec.Attributes()
	at.PutStr("event.name", "codex.tool_result")
	at.PutStr("conversation.id", "0199-codex")
	at.PutStr("tool_name", "read_text_file")
	at.PutStr("call_id", "call_9")
	at.PutStr("mcp_server", "filesystem")
	at.PutStr("arguments", `{"path":"/etc/shadow"}`)
	at.PutStr("output", output)
	at.PutStr("success", success)
}

// TestCodexRefusalInOutput: Codex's refusal of a path outside the server's
// roots is a denial of mcp.roots, as for the emitters with an error field;
// a successful call whose output says the same words is not, and neither
// is a refusal past the bytes the event model reads.
func TestCodexRefusalInOutput(t *testing.T) {
	refusal := "Access denied - path outside allowed directories: /etc/shadow not in /home/dev"
	ld := plog.NewLogs()
	codexToolResult(ld, "false", refusal)
	codexToolResult(ld, "true", refusal)
	codexToolResult(ld, "false", "Error: ENOENT: no such file or directory, open '/home/dev/x'")
	codexToolResult(ld, "false", strings.Repeat("x", maxRefusalBytes)+refusal)
	got := classifyAllLogs(MustNew(Config{}), ld)
	require.Len(t, got, 4)

	assert.Equal(t, OutcomeDenied, got[0].Outcome)
	assert.Equal(t, CapabilityMCPRoots, got[0].Capability)
	assert.Equal(t, "filesystem", got[0].ExtensionID)

	assert.Equal(t, OutcomeOK, got[1].Outcome, "a successful call is no denial")
	assert.Equal(t, "", got[1].Capability)

	assert.Equal(t, OutcomeError, got[2].Outcome)
	assert.Equal(t, "ENOENT", got[2].ErrorCode)

	assert.Equal(t, OutcomeError, got[3].Outcome, "only the head of the output is read")
	assert.Equal(t, "tool_error", got[3].ErrorCode)
}
