package soak

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/otlpsend"
	"github.com/sandwatch/sandwatch/internal/procstat"
	"github.com/sandwatch/sandwatch/test/testutil"
)

func traceID(i int) pcommon.TraceID {
	var id [16]byte
	_, _ = rand.Read(id[:])
	id[0] = byte(i)
	return id
}

func spanID() pcommon.SpanID {
	var id [8]byte
	_, _ = rand.Read(id[:])
	id[0] |= 1
	return id
}

func oneSpan(fill func(ptrace.Span)) ptrace.Traces {
	td := ptrace.NewTraces()
	s := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetTraceID(traceID(0))
	s.SetSpanID(spanID())
	s.SetName("hostile")
	s.SetStartTimestamp(pcommon.NewTimestampFromTime(time.Now()))
	s.SetEndTimestamp(pcommon.NewTimestampFromTime(time.Now()))
	s.Attributes().PutStr("extension.id", "hostile-ext")
	fill(s)
	return td
}

func marshal(t *testing.T, td ptrace.Traces) []byte {
	b, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	require.NoError(t, err)
	return b
}

// hostilePayloads are the requests a hostile or broken sender sends; the
// bool says whether the collector may accept it (well-formed but nasty) or
// must refuse it (malformed, oversized).
func hostilePayloads(t *testing.T) map[string]struct {
	body      []byte
	mayAccept bool
} {
	garbage := make([]byte, 64<<10)
	_, _ = rand.Read(garbage)
	huge := strings.Repeat("A", 1<<20)
	invalid := string([]byte{0xff, 0xfe, 0xfd, 'x', 0xc3, 0x28, 0xa0, 0xa1})
	out := map[string]struct {
		body      []byte
		mayAccept bool
	}{
		"malformed protobuf": {garbage, false},
		"oversized request (40 MiB)": {marshal(t, oneSpan(func(s ptrace.Span) {
			for i := 0; i < 40; i++ {
				s.Attributes().PutStr(fmt.Sprintf("blob.%d", i), huge)
			}
		})), false},
		"10k attributes per span": {marshal(t, oneSpan(func(s ptrace.Span) {
			for i := 0; i < 10000; i++ {
				s.Attributes().PutStr(fmt.Sprintf("attr.%d", i), "value with token=ghp_"+strings.Repeat("x", 36))
			}
		})), true},
		"1 MiB values": {marshal(t, oneSpan(func(s ptrace.Span) {
			s.Attributes().PutStr("http.url", "https://api.example.com/"+huge)
			s.Attributes().PutStr("file.path", "/"+huge)
			s.Attributes().PutStr("db.query.text", "SELECT '"+huge+"'")
			s.Status().SetMessage(huge)
		})), true},
		"invalid UTF-8": {marshal(t, oneSpan(func(s ptrace.Span) {
			s.SetName(invalid)
			s.Attributes().PutStr("extension.id", invalid)
			s.Attributes().PutStr("http.url", "https://"+invalid+"/x?token="+invalid)
			s.Attributes().PutStr("file.path", "/workspace/"+invalid)
			s.Attributes().PutStr(invalid, invalid)
		})), true},
		"deeply nested maps": {marshal(t, oneSpan(func(s ptrace.Span) {
			m := s.Attributes().PutEmptyMap("nested")
			for i := 0; i < 100; i++ {
				m.PutStr("password", "hunter2")
				m = m.PutEmptyMap("child")
			}
			sl := s.Attributes().PutEmptySlice("list")
			for i := 0; i < 100; i++ {
				sl = sl.AppendEmpty().SetEmptySlice()
			}
		})), true},
	}
	return out
}

// distinctExtensions returns requests of n spans each, every span from a
// different extension id and host (an adversarial-cardinality sender), 200
// spans to a trace.
func distinctExtensions(t *testing.T, requests, n int) [][]byte {
	var out [][]byte
	id := 0
	for r := 0; r < requests; r++ {
		td := ptrace.NewTraces()
		spans := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
		now := pcommon.NewTimestampFromTime(time.Now())
		var tid pcommon.TraceID
		for i := 0; i < n; i++ {
			s := spans.AppendEmpty()
			if i%200 == 0 {
				tid = traceID(i)
			}
			s.SetTraceID(tid)
			s.SetSpanID(spanID())
			s.SetName("GET")
			s.SetStartTimestamp(now)
			s.SetEndTimestamp(now)
			s.Attributes().PutStr("extension.id", fmt.Sprintf("evil-%07d", id))
			s.Attributes().PutStr("http.url", fmt.Sprintf("https://h%d.evil.example/", id))
			id++
		}
		out = append(out, marshal(t, td))
	}
	return out
}

// Hostile senders: the collector stays up, its memory stays within the
// limit, malformed input is refused with an error, and well-formed traffic
// from another sender keeps flowing throughout.
func TestHostileSenders(t *testing.T) {
	const memLimit = 512
	d := startDefault(t, memLimit)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	// The well-behaved sender runs the whole time.
	waitGood := goodSender(t, ctx, d)

	sender, err := otlpsend.New("grpc", d.grpc)
	require.NoError(t, err)
	defer sender.Close()
	httpSender, err := otlpsend.New("http", "http://"+d.http)
	require.NoError(t, err)
	defer httpSender.Close()

	for name, p := range hostilePayloads(t) {
		_, gerr := sender.Send(ctx, otlpsend.Traces, p.body)
		_, herr := httpSender.Send(ctx, otlpsend.Traces, p.body)
		if !p.mayAccept {
			assert.Error(t, gerr, "%s over gRPC must be refused", name)
			assert.Error(t, herr, "%s over HTTP must be refused", name)
		}
		t.Logf("%s: grpc=%v http=%v", name, gerr, herr)
	}
	// Malformed logs too.
	_, err = sender.Send(ctx, otlpsend.Logs, []byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f})
	assert.Error(t, err)
	ld := plog.NewLogs()
	ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Body().SetEmptyMap().PutEmptyMap("a").PutStr("secret", "x")
	body, _ := (&plog.ProtoMarshaler{}).MarshalLogs(ld)
	_, err = sender.Send(ctx, otlpsend.Logs, body)
	assert.NoError(t, err)

	// A million distinct extension ids (50 x 20k spans); refusals by the
	// memory limiter are allowed (that is back-pressure), a crash is not.
	var refused int
	for _, body := range distinctExtensions(t, 50, 20000) {
		if _, err := sender.Send(ctx, otlpsend.Traces, body); err != nil {
			refused++
		}
	}
	t.Logf("distinct-extension requests refused: %d/50", refused)

	good := waitGood()
	assert.Greater(t, good.Spans, int64(500), "the good sender delivered")
	// Back-pressure is shared: while the archive absorbs a million
	// one-span traces (a million objects), every sender may be refused for
	// a while. The good sender must still get most of its traffic through.
	t.Logf("good sender: %d of %d requests refused (%s)", good.Failed, good.Requests, good.out)
	assert.Less(t, float64(good.Failed), 0.25*float64(good.Requests), "the good sender was mostly refused: %s", good.out)

	require.False(t, d.Exited(), "collector died")
	_, peak := procstat.RSSMiB(d.Pid())
	t.Logf("peak RSS %.0f MiB (memory_limiter limit %d MiB)", peak, memLimit)
	assert.Less(t, peak, float64(memLimit)*1.6, "peak RSS beyond the memory limit's reach")

	// And it still takes well-formed traffic after all that.
	before := d.acceptedSpans(t)
	out, err := testutil.RunCtl(t, ctx, "simulate", "--json", "--endpoint", d.grpc, "--duration", "2s", "--rate", "20")
	require.NoError(t, err, out)
	testutil.Eventually(t, 20*time.Second, func() bool { return d.acceptedSpans(t) > before+50 }, "accepted spans after the hostile phase")
}
