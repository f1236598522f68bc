package soak

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/otlpsend"
	"github.com/sandwatch/sandwatch/internal/procstat"
)

// uniqueTraceIDs is a request of n spans, each its own trace (ids from
// seq on, never repeated): the worst case for anything keyed by trace.
func uniqueTraceIDs(t *testing.T, seq *atomic.Uint64, n int) []byte {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "flood")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	spans.EnsureCapacity(n)
	now := pcommon.NewTimestampFromTime(time.Now())
	for i := 0; i < n; i++ {
		var tid [16]byte
		binary.BigEndian.PutUint64(tid[8:], seq.Add(1))
		tid[0] = 0xf1
		s := spans.AppendEmpty()
		s.SetTraceID(tid)
		s.SetSpanID(spanID())
		s.SetName("GET")
		s.SetStartTimestamp(now)
		s.SetEndTimestamp(now + 1000)
		s.Attributes().PutStr("extension.id", fmt.Sprintf("flood-%d", i%20))
		s.Attributes().PutStr("http.url", "https://api.example.com/v1/items")
	}
	return marshal(t, td)
}

// TestUniqueTraceIDFlood: one sender gives every span its own trace id,
// as fast as the collector takes it, while a well-behaved sender runs
// alongside. The flood may be slowed down (back-pressure), but the good
// sender keeps its share: at most 10% of its requests refused. Memory
// stays within the limiter's reach and the collector stays up.
func TestUniqueTraceIDFlood(t *testing.T) {
	const memLimit = 512
	d := startDefault(t, memLimit)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	waitGood := goodSender(t, ctx, d)
	var wg sync.WaitGroup

	// Four senders of 10k-span requests: with the bbolt queue and the
	// clone (before issue 13) this refused 46% of the good sender's
	// requests ("data refused due to high memory usage"), peak RSS 581 MiB.
	const floodSenders, floodSpans = 4, 10000
	var seq atomic.Uint64
	var sent, refused atomic.Int64
	floodCtx, stopFlood := context.WithTimeout(ctx, 18*time.Second)
	defer stopFlood()
	for range floodSenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			snd, err := otlpsend.New("grpc", d.grpc)
			if !assert.NoError(t, err) {
				return
			}
			defer snd.Close()
			for floodCtx.Err() == nil {
				body := uniqueTraceIDs(t, &seq, floodSpans)
				if _, err := snd.Send(floodCtx, otlpsend.Traces, body); err != nil {
					refused.Add(1)
				} else {
					sent.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	good := waitGood()
	t.Logf("flood: %d requests of %d one-span traces accepted, %d refused", sent.Load(), floodSpans, refused.Load())
	t.Logf("good sender: %d of %d requests refused (%s)", good.Failed, good.Requests, good.out)
	require.Positive(t, sent.Load(), "the flood never got in: the test measured nothing")
	assert.Greater(t, good.Requests, int64(500), "the good sender ran")
	assert.LessOrEqual(t, float64(good.Failed), 0.10*float64(good.Requests), "the flood took the good sender's share")

	require.False(t, d.Exited(), "collector died")
	_, peak := procstat.RSSMiB(d.Pid())
	t.Logf("peak RSS %.0f MiB (memory_limiter limit %d MiB)", peak, memLimit)
	assert.Less(t, peak, float64(memLimit)*1.6, "peak RSS beyond the memory limit's reach")
}
