package scrubtest

import (
	"bytes"
	"encoding/json"
	"strings"
)

// AgentCarriers map each agent carrier to the attribute that holds the
// JSON (or, for Codex's output, plain text) value, for tests that check
// the value stays valid JSON after scrubbing.
var AgentCarriers = map[string]string{
	"gen_ai.tool.call.arguments":  "gen_ai.tool.call.arguments",
	"gen_ai.tool.call.result":     "gen_ai.tool.call.result",
	"traceloop.entity.input":      "traceloop.entity.input",
	"traceloop.entity.output":     "traceloop.entity.output",
	"claude_code.tool_parameters": "tool_parameters",
	"claude_code.tool_input":      "tool_input",
	"codex.arguments":             "arguments",
	"codex.output":                "output",
}

// IsJSONCarrier reports whether carrier's value is a JSON document.
func IsJSONCarrier(carrier string) bool {
	_, ok := AgentCarriers[carrier]
	return ok && carrier != "codex.output"
}

// jsonString encodes v the way the emitters do (JSON.stringify, serde):
// no HTML escaping.
func jsonString(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// plantAgent puts text where the agent emitters record tool arguments and
// results: on execute_tool and Traceloop spans, and on Claude Code and
// Codex tool_result log events.
func (p *planter) plantAgent(carrier, text string) bool {
	switch carrier {
	case "gen_ai.tool.call.arguments":
		sp := p.newSpan()
		sp.SetName("execute_tool developer__text_editor")
		sp.Attributes().PutStr("gen_ai.operation.name", "execute_tool")
		sp.Attributes().PutStr(carrier, jsonString(map[string]any{"command": "write", "path": "/workspace/app/.env", "file_text": text}))
	case "gen_ai.tool.call.result":
		sp := p.newSpan()
		sp.SetName("execute_tool developer__shell")
		sp.Attributes().PutStr(carrier, jsonString([]any{map[string]any{"type": "text", "text": text}}))
	case "traceloop.entity.input":
		sp := p.newSpan()
		sp.SetName("write_file.tool")
		sp.Attributes().PutStr(carrier, jsonString(map[string]any{"tool_name": "write_file", "arguments": map[string]any{"path": "/workspace/.env", "content": text}}))
	case "traceloop.entity.output":
		sp := p.newSpan()
		sp.SetName("read_text_file.tool")
		sp.Attributes().PutStr(carrier, jsonString(map[string]any{"result": text, "is_error": false}))
	case "claude_code.tool_parameters":
		rec := p.sl.LogRecords().AppendEmpty()
		rec.Body().SetStr("claude_code.tool_result")
		rec.Attributes().PutStr("tool_name", "Bash")
		rec.Attributes().PutStr("tool_parameters", jsonString(map[string]any{"bash_command": "export", "full_command": text, "timeout": 120000}))
	case "claude_code.tool_input":
		rec := p.sl.LogRecords().AppendEmpty()
		rec.Body().SetStr("claude_code.tool_result")
		rec.Attributes().PutStr("tool_name", "Write")
		rec.Attributes().PutStr("tool_input", jsonString(map[string]any{"file_path": "/workspace/config.yaml", "content": text}))
	case "codex.arguments":
		rec := p.sl.LogRecords().AppendEmpty()
		rec.Attributes().PutStr("event.name", "codex.tool_result")
		rec.Attributes().PutStr("arguments", jsonString(map[string]any{"command": []any{"bash", "-lc", text}, "workdir": "/repo"}))
	case "codex.output":
		rec := p.sl.LogRecords().AppendEmpty()
		rec.Attributes().PutStr("event.name", "codex.tool_result")
		rec.Attributes().PutStr("output", "Exit code: 0\nOutput:\n"+text+"\n")
	default:
		return false
	}
	return true
}
