package baselineconnector

import (
	"context"
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/detect"
	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/profile"
	"github.com/sandwatch/sandwatch/internal/simulate"
)

// BenchmarkConsumeTraces: the realistic simulate mix (200 extensions, all
// four host styles) through the connector after learning; each batch is
// ~1000 spans of fresh traces, as the hot pipeline delivers them.
func BenchmarkConsumeTraces(b *testing.B) { benchConsume(b, false) }

// BenchmarkConsumeTracesProcess: the same with host.name and process.pid
// on every resource, as sandbox hosts set them for unreported_access (the
// connector keeps each process's invocation ranges and reported targets).
func BenchmarkConsumeTracesProcess(b *testing.B) { benchConsume(b, true) }

func benchConsume(b *testing.B, process bool) {
	r := newRig(b, nil)
	g := simulate.New(simulate.Options{Seed: 1, Extensions: 200})
	r.learn(g, 100)
	const nb = 64
	batches := make([]ptrace.Traces, nb)
	logs := make([]plog.Logs, nb)
	spans := 0
	for i := range batches {
		batches[i], logs[i] = g.Batch(i*7, 1000, r.clock)
		if process {
			host, pid := simulate.Process(i % 16)
			simulate.AttachProcess(batches[i], host, pid)
		}
		spans += batches[i].SpanCount()
	}
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		td := batches[i%nb]
		_ = r.traces.ConsumeTraces(context.Background(), td)
		n += td.SpanCount()
		if i%nb == nb-1 { // the same traces again would be late spans: judge and forget them
			b.StopTimer()
			r.advance(2 * time.Minute)
			r.b.tick(context.Background(), false)
			r.reset()
			b.StartTimer()
		}
	}
	// Per CPU-second of this process (ticks included): on a shared
	// machine wall-clock rates measure the neighbours.
	b.ReportMetric(float64(n)/(cpuTime()-cpu0).Seconds(), "spans/cpu-s")
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "spans/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/span")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// fullProfile fills every class to its default cap with realistic names.
func fullProfile(i int) *profile.Profile {
	lim := profile.DefaultLimits()
	p := profile.New(fmt.Sprintf("extension-%06d", i), 1)
	for c := profile.Class(0); c < profile.NumClasses; c++ {
		for j := 0; j < lim.MaxTargets[c]+10; j++ { // +10 overflows into the summary
			n := fmt.Sprintf("/workspace/extension-%06d/%s/item-%03d/*.json", i, c, j)
			p.Sets[c].Add(profile.Hash(n), n, lim.MaxTargets[c])
		}
	}
	for j := 0; j < 16; j++ {
		p.Block(fmt.Sprintf("Block%02dType", j)).Add(1, 0.01)
	}
	maxReads := detect.DefaultDetectors().Exfiltration.MaxReads
	for j := 0; j < maxReads; j++ { // exfiltration's read memory, full
		p.Reads.Add(profile.Read{Target: fmt.Sprintf("/home/agent-%06d/.config/tool-%02d/credentials-*.json", i, j)}, maxReads)
	}
	for j := 0; j < profile.MaxVersions; j++ {
		p.Versions = append(p.Versions, fmt.Sprintf("1.%d.%d-build.%06d", j, i%100, i))
	}
	return p
}

// TestProfileMemoryAtDefaults measures the heap of a profile filled to
// the default caps (the worst case at defaults): target < 32 KiB.
func TestProfileMemoryAtDefaults(t *testing.T) {
	const n = 500
	keep := make([]*profile.Profile, n)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range keep {
		keep[i] = fullProfile(i)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("full profile at default caps: %.0f bytes (%.1f KiB)", per, per/1024)
	assert.Less(t, per, 32*1024.0)
	runtime.KeepAlive(keep)
}

// 100k extensions against max_extensions 10000: the cap holds, the
// evictions are counted.
func TestManyExtensionsHeldWithinCap(t *testing.T) {
	r := newRig(t, func(c *Config) { c.MaxExtensions = 10000 })
	td := ptrace.NewTraces()
	ss := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	for i := 0; i < 100000; i++ {
		s := ss.AppendEmpty()
		s.SetTraceID([16]byte{byte(i), byte(i >> 8), byte(i >> 16), 7})
		s.SetSpanID([8]byte{1})
		s.Attributes().PutStr("extension.id", fmt.Sprintf("ext-%06d", i))
		s.Attributes().PutStr("fs.path", fmt.Sprintf("/w/%d/a.json", i))
		if ss.Len() == 5000 {
			require.NoError(t, r.traces.ConsumeTraces(context.Background(), td))
			td = ptrace.NewTraces()
			ss = td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
		}
	}
	st := r.b.eng.Stats()
	assert.Equal(t, 10000, st.Profiles)
	assert.EqualValues(t, 90000, r.b.eng.C.Evicted)
}
