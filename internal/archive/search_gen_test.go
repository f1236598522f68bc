package archive_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/archive"
)

// synthetic describes a generated archive: traces evenly spread from
// Base, Per traces per write, each trace an invocation of one of Exts
// extensions (root server span, a client call, a file read). Every
// EvilEvery-th trace calls paste.evil.example and gets an exfiltration
// anomaly on its client span; every ErrEvery-th call answers 500.
type synthetic struct {
	Traces    int
	Per       int
	Exts      int
	Base      time.Time
	Step      time.Duration // between trace starts
	EvilEvery int
	ErrEvery  int
	Format    archive.Format
}

func genTraceID(i int) pcommon.TraceID {
	var id pcommon.TraceID
	binary.BigEndian.PutUint64(id[:8], uint64(i)+1)
	binary.BigEndian.PutUint64(id[8:], uint64(i)*0x9e3779b97f4a7c15+7)
	return id
}

func genSpanID(i, n int) pcommon.SpanID {
	var id pcommon.SpanID
	binary.BigEndian.PutUint64(id[:], uint64(i)<<4|uint64(n)+1)
	return id
}

func (g synthetic) ext(i int) string { return fmt.Sprintf("ext-%03d", i%g.Exts) }

// write stores the archive through w, one write per Per traces, at the
// time the write's last trace ended.
func (g synthetic) write(ctx context.Context, w *archive.Writer) error {
	finder := archive.AnomalyFinder{EventName: "sandbox.anomaly", TypeKey: "anomaly.type", ExtensionKey: "sandbox.extension.id"}
	w.Anomalies = finder.Find
	w.Extensions = archive.Extensions{OfSpan: func(res pcommon.Resource, _ ptrace.Span) string {
		v, _ := res.Attributes().Get("extension.id")
		return v.Str()
	}}
	for lo := 0; lo < g.Traces; lo += g.Per {
		hi := min(lo+g.Per, g.Traces)
		td := ptrace.NewTraces()
		ld := plog.NewLogs()
		var last time.Time
		for i := lo; i < hi; i++ {
			last = g.trace(td, ld, i)
		}
		w.Now = func() time.Time { return last.Add(2 * time.Second) }
		if _, err := w.WriteTraces(ctx, td); err != nil {
			return err
		}
		if ld.LogRecordCount() > 0 {
			if _, err := w.WriteLogs(ctx, ld); err != nil {
				return err
			}
		}
	}
	return nil
}

// trace appends trace i and returns its end.
func (g synthetic) trace(td ptrace.Traces, ld plog.Logs, i int) time.Time {
	start := g.Base.Add(time.Duration(i) * g.Step)
	id := genTraceID(i)
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "goose")
	rs.Resource().Attributes().PutStr("extension.id", g.ext(i))
	ss := rs.ScopeSpans().AppendEmpty()
	span := func(n int, name string, parent int, off, dur time.Duration) ptrace.Span {
		s := ss.Spans().AppendEmpty()
		s.SetTraceID(id)
		s.SetSpanID(genSpanID(i, n))
		if parent >= 0 {
			s.SetParentSpanID(genSpanID(i, parent))
		}
		s.SetName(name)
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(start.Add(off)))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(off + dur)))
		return s
	}
	root := span(0, "invoke", -1, 0, 40*time.Millisecond+time.Duration(i%7)*time.Millisecond)
	root.SetKind(ptrace.SpanKindServer)
	call := span(1, "HTTPRequestBlock", 0, 2*time.Millisecond, 30*time.Millisecond)
	call.SetKind(ptrace.SpanKindClient)
	host := fmt.Sprintf("api-%d.example", i%13)
	evil := g.EvilEvery > 0 && i%g.EvilEvery == 0
	if evil {
		host = "paste.evil.example"
	}
	call.Attributes().PutStr("server.address", host)
	code := int64(200)
	if g.ErrEvery > 0 && i%g.ErrEvery == 0 {
		code = 500
		call.Status().SetCode(ptrace.StatusCodeError)
	}
	call.Attributes().PutInt("http.status_code", code)
	rd := span(2, "FileReadBlock", 0, 33*time.Millisecond, 2*time.Millisecond)
	rd.Attributes().PutStr("fs.path", fmt.Sprintf("/data/%d.json", i%101))
	if evil {
		rec := ld.ResourceLogs().AppendEmpty()
		lr := rec.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
		lr.SetEventName("sandbox.anomaly")
		lr.SetTraceID(id)
		lr.SetSpanID(genSpanID(i, 1))
		lr.SetTimestamp(pcommon.NewTimestampFromTime(start.Add(32 * time.Millisecond)))
		lr.SetSeverityText("critical")
		lr.Attributes().PutStr("anomaly.type", "exfiltration")
		lr.Attributes().PutStr("sandbox.extension.id", g.ext(i))
	}
	return start.Add(40 * time.Millisecond)
}
