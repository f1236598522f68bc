package archive_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"gocloud.dev/blob/fileblob"

	"github.com/sandwatch/sandwatch/internal/archive"
	"github.com/sandwatch/sandwatch/internal/traceql"
)

// benchArchive is written once per size and reused across runs (it takes
// about a minute per million traces): SANDWATCH_SEARCH_BENCH_TRACES traces
// (default 100,000, so that `make test`'s one pass of every benchmark
// stays short; `make bench-search` sets 1,000,000)
// spread over 7 days ending at benchEnd, 2,000 traces per write (one
// block, catalog and lookup run each, as a 4-8 MiB queue batch is), 20
// extensions, an exfiltration anomaly on every 1000th trace, a 500 on
// every 11th call. Written through archive.Writer directly, not through
// the collector: the write path's own speed is BenchmarkWriteTracesFile's
// subject, and going through OTLP would take an hour on this machine.
func benchArchive(b *testing.B) (*archive.Reader, synthetic) {
	n := 100_000
	if s := os.Getenv("SANDWATCH_SEARCH_BENCH_TRACES"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 10_000 {
			b.Fatalf("SANDWATCH_SEARCH_BENCH_TRACES=%q: want a number >= 10000", s)
		}
	}
	g := synthetic{Traces: n, Per: 2000, Exts: 20, EvilEvery: 1000, ErrEvery: 11, Format: archive.DefaultFormat,
		Step: 7 * 24 * time.Hour / time.Duration(n)}
	g.Base = benchEnd.Add(-time.Duration(n) * g.Step)
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("sandwatch-search-bench-%d", n))
	done := filepath.Join(dir, ".complete")
	if _, err := os.Stat(done); err != nil {
		_ = os.RemoveAll(dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		bk, err := fileblob.OpenBucket(dir, nil)
		if err != nil {
			b.Fatal(err)
		}
		began, cpu := time.Now(), cpuTime()
		if err := g.write(context.Background(), &archive.Writer{Bucket: bk, Format: g.Format}); err != nil {
			b.Fatal(err)
		}
		_ = bk.Close()
		b.Logf("wrote %d traces (%d spans) in %s wall, %s CPU", n, 3*n, time.Since(began).Round(time.Second), (cpuTime() - cpu).Round(time.Second))
		if err := os.WriteFile(done, nil, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	bk, err := fileblob.OpenBucket(dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = bk.Close() })
	r := &archive.Reader{Bucket: bk, LocalDir: dir}
	// The exporter compacts lookup runs as it writes (fanout 8): so does
	// the benchmark, once, before searching (anomaly searches find their
	// traces' pages through the runs, as trace-by-id does).
	compacted := filepath.Join(dir, ".compacted")
	if _, err := os.Stat(compacted); err != nil {
		for {
			st, err := r.Compact(context.Background(), archive.Compaction{Fanout: 8})
			if err != nil {
				b.Fatal(err)
			}
			if st.Merged == 0 {
				break
			}
		}
		if err := os.WriteFile(compacted, nil, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	return r, g
}

// benchEnd is a fixed instant: the archive is reused across runs.
var benchEnd = time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSearch: Grafana's default search (limit 20, spss 3) over the
// benchmark archive. Reports p50/p99 latency, spans evaluated per
// CPU-second of the process, and per search the pages read, decoded,
// skipped (read, no needle) and not read (named by a catalog read, never
// fetched). One long-lived Reader, as forensic_query holds: it caches the
// lookup runs' footers (never the catalogs, anomaly indexes or pages).
func BenchmarkSearch(b *testing.B) {
	r, _ := benchArchive(b)
	for _, c := range []struct {
		name, q string
		window  time.Duration
	}{
		{"extension-24h", `{ span.sandwatch.extension = "ext-007" }`, 24 * time.Hour},
		{"anomaly-7d", `{ span.sandwatch.anomaly = "exfiltration" }`, 7 * 24 * time.Hour},
		{"ext+anomaly-7d", `{ span.sandwatch.extension = "ext-000" } && { span.sandwatch.anomaly = "exfiltration" }`, 7 * 24 * time.Hour},
		// A content condition no trace meets: the whole hour is scanned.
		{"attribute-1h-scan", `{ span.http.status_code = 500 && duration > 1s }`, time.Hour},
		// A value no page holds: pages are read, none decoded.
		{"attribute-1h-absent", `{ span.server.address = "nowhere.example" }`, time.Hour},
		// A common value: the newest matches end the walk early.
		{"attribute-1h-common", `{ span.http.status_code = 500 }`, time.Hour},
	} {
		b.Run(c.name, func(b *testing.B) {
			q, err := traceql.Parse(c.q)
			if err != nil {
				b.Fatal(err)
			}
			req := archive.SearchRequest{Query: q, Start: benchEnd.Add(-c.window), End: benchEnd, Limit: 20, SpansPerSet: 3}
			var lat []time.Duration
			var last *archive.SearchResult
			var spans int64
			cpu := cpuTime()
			b.ResetTimer()
			for b.Loop() {
				t0 := time.Now()
				res, err := r.Search(context.Background(), req)
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
				spans += res.Metrics.InspectedSpans
				last = res
			}
			cpuSec := (cpuTime() - cpu).Seconds()
			slices.Sort(lat)
			pct := func(p float64) float64 {
				return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
			}
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
			b.ReportMetric(float64(spans)/cpuSec, "spans/cpu-s")
			m := last.Metrics
			b.ReportMetric(float64(m.InspectedSpans), "spans/op")
			b.ReportMetric(float64(len(last.Traces)), "traces/op")
			b.ReportMetric(float64(m.PagesRead), "pages-read/op")
			b.ReportMetric(float64(m.PagesDecoded), "pages-decoded/op")
			b.ReportMetric(float64(m.PagesSkipped), "pages-skipped/op")
			b.ReportMetric(float64(m.PagesNotRead), "pages-not-read/op")
			b.ReportMetric(float64(m.CatalogsRead), "catalogs-read/op")
			b.ReportMetric(float64(m.Catalogs), "catalogs/op")
			b.ReportMetric(float64(m.InspectedBytes), "bytes/op")
		})
	}
}
