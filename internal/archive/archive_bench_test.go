package archive

import (
	"context"
	"crypto/ed25519"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/archive/digest"
	"github.com/sandwatch/sandwatch/internal/archive/sealed"
	"github.com/sandwatch/sandwatch/internal/simulate"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkWriteTracesFile: one queue batch of the realistic mix (benign
// invocations of 200 extensions, ~16k spans) split per trace, encoded,
// compressed and written to file:// (one object per trace + the index).
// Reports spans/s of wall time and spans per CPU-second of the process.
// The +sealed and +digest cases add per-page AES-256-GCM encryption and
// the SHA-256 of each object for the signed digests: their cost per span
// is the difference in spans/cpu-s against pb.zst.
func BenchmarkWriteTracesFile(b *testing.B) {
	for _, c := range []struct {
		f              Format
		sealed, digest bool
	}{
		{f: DefaultFormat}, {f: Format{EncodingProto, CompressionGzip}}, {f: Format{EncodingJSON, CompressionZstd}},
		{f: DefaultFormat, sealed: true}, {f: DefaultFormat, digest: true}, {f: DefaultFormat, sealed: true, digest: true},
	} {
		name := c.f.Ext()[1:]
		if c.sealed {
			name += "+sealed"
		}
		if c.digest {
			name += "+digest"
		}
		b.Run(name, func(b *testing.B) {
			g := simulate.New(simulate.Options{Seed: 1, Extensions: 200})
			td, _ := g.Batch(0, 16384, time.Now())
			bucket, _, err := Open(context.Background(), "file://"+b.TempDir(), S3Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer bucket.Close()
			w := &Writer{Bucket: bucket, Format: c.f}
			if c.sealed {
				w.Keys = &sealed.Ring{Active: "k1"}
				_ = w.Keys.Add("k1", make([]byte, 32))
			}
			if c.digest {
				_, priv, _ := ed25519.GenerateKey(nil)
				// A long interval: the benchmark measures hashing, not digest PUTs.
				if w.Digester, err = StartDigester(context.Background(), bucket, DigestOptions{Writer: "bench", Key: priv, Interval: time.Hour}); err != nil {
					b.Fatal(err)
				}
				defer w.Digester.Close(context.Background())
			}
			spans := td.SpanCount()
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			for b.Loop() {
				if _, err := w.WriteTraces(context.Background(), td); err != nil {
					b.Fatal(err)
				}
			}
			cpu := cpuTime() - cpu0
			total := float64(spans * b.N)
			b.ReportMetric(total/b.Elapsed().Seconds(), "spans/s")
			b.ReportMetric(total/cpu.Seconds(), "spans/cpu-s")
			b.ReportMetric(3/float64(spans), "objects/span")
		})
	}
}

// BenchmarkEncodeBlock isolates the CPU part (no I/O): marshal,
// paginate, compress, per-trace bookkeeping.
func BenchmarkEncodeBlock(b *testing.B) {
	g := simulate.New(simulate.Options{Seed: 1, Extensions: 200})
	td, _ := g.Batch(0, 16384, time.Now())
	spans := td.SpanCount()
	b.ReportAllocs()
	for b.Loop() {
		batch, err := EncodeTraces(td, Extensions{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := encodeBlock(DefaultFormat, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(spans*b.N)/b.Elapsed().Seconds(), "spans/s")
}

// BenchmarkLookupFile: Get by id in a file:// archive of
// FORENSIC_BENCH_TRACES traces (default 20000; the target is measured at
// 1000000, which takes minutes and ~8 GB to build). Set
// FORENSIC_BENCH_DIR to keep and reuse the archive between runs. Each
// iteration looks up a random archived trace; p50/p99 are reported.
func BenchmarkLookupFile(b *testing.B) {
	n := 20000
	if s := os.Getenv("FORENSIC_BENCH_TRACES"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			b.Fatalf("FORENSIC_BENCH_TRACES=%q", s)
		}
		n = v
	}
	dir := os.Getenv("FORENSIC_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	bucket, local, err := Open(context.Background(), "file://"+dir, S3Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer bucket.Close()
	ids := buildArchive(b, &Writer{Bucket: bucket, Format: DefaultFormat}, dir, n)
	r := &Reader{Bucket: bucket, LocalDir: local}
	rng := rand.New(rand.NewPCG(1, 2))
	runs, err := r.runs(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, b.N)
	pages := 0
	b.ResetTimer()
	for b.Loop() {
		id := ids[rng.IntN(len(ids))]
		t0 := time.Now()
		tr, err := r.Get(context.Background(), id)
		lat = append(lat, time.Since(t0))
		if err != nil || tr.Spans == 0 {
			b.Fatalf("get %s: %v", TraceHex(id), err)
		}
		pages += tr.Pages
	}
	b.StopTimer()
	// Requests per lookup on any store: one List, one entries read per
	// run (headers cached after the first lookup), one read per page.
	b.ReportMetric(float64(len(runs)), "runs")
	b.ReportMetric(1+float64(len(runs))+float64(pages)/float64(len(lat)), "requests/lookup")
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(len(ids)), "traces")
}

// buildArchive writes n traces of ~8 spans (ids derived from a counter so a
// kept archive is reused), 5000 per write.
func buildArchive(b *testing.B, w *Writer, dir string, n int) []pcommon.TraceID {
	ids := make([]pcommon.TraceID, n)
	for i := range ids {
		r := rand.New(rand.NewPCG(uint64(i), 77))
		for j := range ids[i] {
			ids[i][j] = byte(r.Uint32())
		}
	}
	marker := dir + "/.built-" + strconv.Itoa(n)
	if _, err := os.Stat(marker); err == nil {
		return ids
	}
	start := time.Now()
	g := simulate.New(simulate.Options{Seed: 9, Extensions: 200})
	tmpl, _ := g.Invocation(0, time.Now())
	for lo := 0; lo < n; lo += 5000 {
		td := ptrace.NewTraces()
		for i := lo; i < min(lo+5000, n); i++ {
			rs := td.ResourceSpans().AppendEmpty()
			tmpl.ResourceSpans().At(0).CopyTo(rs)
			ss := rs.ScopeSpans().At(0).Spans()
			for k := 0; k < ss.Len(); k++ {
				ss.At(k).SetTraceID(ids[i])
			}
		}
		if _, err := w.WriteTraces(context.Background(), td); err != nil {
			b.Fatal(err)
		}
		// Compact after every eighth write, as the exporter does.
		if (lo/5000)%8 == 7 {
			if _, err := (&Reader{Bucket: w.Bucket}).Compact(context.Background(), Compaction{}); err != nil {
				b.Fatal(err)
			}
		}
	}
	_ = os.WriteFile(marker, nil, 0o600)
	b.Logf("built an archive of %d traces in %s", n, time.Since(start).Round(time.Second))
	return ids
}

// BenchmarkTrustCost isolates what encryption and digests add per span
// to a write of the realistic mix (one ~16k-span block): sealing every
// page (AES-256-GCM), opening them again (what a reader pays), and the
// SHA-256 a digest records. Compare ns/span with BenchmarkEncodeBlock's.
func BenchmarkTrustCost(b *testing.B) {
	g := simulate.New(simulate.Options{Seed: 1, Extensions: 200})
	td, _ := g.Batch(0, 16384, time.Now())
	spans := td.SpanCount()
	batch, err := EncodeTraces(td, Extensions{})
	if err != nil {
		b.Fatal(err)
	}
	blk, err := encodeBlock(DefaultFormat, batch)
	if err != nil {
		b.Fatal(err)
	}
	ring := &sealed.Ring{Active: "k1"}
	_ = ring.Add("k1", make([]byte, 32))
	perSpan := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(spans*b.N), "ns/span")
		b.ReportMetric(float64(len(blk.Data)), "block-bytes")
	}
	b.Run("seal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			k, err := ring.NewObjectKey("blocks/x")
			if err != nil {
				b.Fatal(err)
			}
			if _, err := sealBlock(k, blk); err != nil {
				b.Fatal(err)
			}
		}
		perSpan(b)
	})
	b.Run("open", func(b *testing.B) {
		k, _ := ring.NewObjectKey("blocks/x")
		sb, _ := sealBlock(k, blk)
		b.ReportAllocs()
		for b.Loop() {
			ok, err := ring.Open("blocks/x", sb.Data[:sealed.MaxHeader])
			if err != nil {
				b.Fatal(err)
			}
			for _, p := range sb.Pages {
				if _, err := ok.OpenPage(sb.Data[p.Off:p.Off+uint64(p.Len)], p.Off); err != nil {
					b.Fatal(err)
				}
			}
		}
		perSpan(b)
	})
	b.Run("sha256", func(b *testing.B) {
		for b.Loop() {
			_ = digest.Sum(blk.Data)
		}
		perSpan(b)
	})
}
