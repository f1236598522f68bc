package sandboxevent

import (
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// FuzzJSONArguments: any bytes as a tool's JSON arguments or result (bad
// JSON, deep nesting, broken escapes, invalid UTF-8, huge) are read
// without panicking, within the byte bound, and a target read from them is
// a substring of the input unless it was decoded from escapes.
func FuzzJSONArguments(f *testing.F) {
	f.Add(`{"tool_name":"read_text_file","arguments":{"path":"/etc/passwd"}}`)
	f.Add(`{"paths":["/a","/b"],"url":"https:\/\/x.example\/\u0041","command":["bash","-lc","id"]}`)
	f.Add(`{"serverInfo":{"name":"srv"},"tools":[{"name":"a","description":"d"}]`)
	f.Add(`[[[[[[[[[[[[[[[[[[[[[[[["x"]]]]]]]]]]]]]]]]]]]]]]`)
	f.Add(`{"a":"\u12","b":"\`)
	f.Add("{\"path\":\"\xff\xfe\"}")
	c := MustNew(Config{})
	f.Fuzz(func(t *testing.T, s string) {
		var a argFacts
		walkJSON(s, a.take)
		for _, v := range []string{a.path, a.url, a.command, a.query, a.uri, a.server, a.tool} {
			if v != "" && !strings.Contains(s, v) && !strings.Contains(s, `\`) {
				t.Fatalf("target %q not in input", v)
			}
		}
		var o outputFacts
		o.read(s, true)
		_ = serverInfoName(s)

		span := ptrace.NewSpan()
		span.SetName("read_text_file.tool")
		span.SetParentSpanID([8]byte{1})
		span.Attributes().PutStr("traceloop.span.kind", "tool")
		span.Attributes().PutStr("traceloop.entity.input", s)
		span.Attributes().PutStr("traceloop.entity.output", s)
		var ev Event
		c.ClassifySpan(span, nil, &ev)
		if ev.Target != "" && ev.TargetType == TargetNone {
			t.Fatalf("target without type: %+v", ev)
		}
		if ev.Agent.Emitter != EmitterTraceloop || ev.Agent.Tool != "read_text_file" {
			t.Fatalf("not read as a Traceloop tool span: %+v", ev.Agent)
		}
	})
}
