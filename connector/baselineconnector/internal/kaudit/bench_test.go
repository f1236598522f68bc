package kaudit

import (
	"fmt"
	"regexp"
	"runtime"
	"strconv"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/detect"
)

// benchLog is about 100 MB of real auditd log: the enriched RHEL 10
// corpus file (a real mix: 1127 records, 23 opens and execs among sendto,
// chown, unlink and config changes, 0x1D-enriched) and the raw
// out-of-order one, repeated with serials moved on each round so every
// event is new.
func benchLog(b *testing.B, target int) ([]string, int) {
	b.Helper()
	var base []string
	for _, f := range []string{"audit-userspace_auparse_test.enriched", "go-libaudit_out_of_order.log", "laurel_record-connect.txt"} {
		base = append(base, fileLines(b, "../../testdata/audit/corpus/"+f)...)
	}
	serial := regexp.MustCompile(`audit\(([0-9.]+):([0-9]+)\)`)
	var out []string
	size := 0
	for round := 0; size < target; round++ {
		for _, l := range base {
			l = serial.ReplaceAllStringFunc(l, func(m string) string {
				sm := serial.FindStringSubmatch(m)
				n, _ := strconv.ParseUint(sm[2], 10, 64)
				return fmt.Sprintf("audit(%s:%d)", sm[1], n+uint64(round)*10_000_000)
			})
			out = append(out, l)
			size += len(l) + 1
		}
	}
	return out, size
}

// BenchmarkReader100MB: 100 MB of auditd log through the Parser as the
// connector calls it (one log record per line, the raw line its body).
// Reports MB/s, the lines and accesses, and the heap in use at the end
// (what the reader keeps; the log itself is garbage by then).
func BenchmarkReader100MB(b *testing.B) {
	lines, size := benchLog(b, 100<<20)
	res := pcommon.NewMap()
	res.PutStr("host.name", "bench")
	rec := plog.NewLogRecord()
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	var found int
	var p *Parser
	for i := 0; i < b.N; i++ {
		p = New(Config{})
		emit := func(detect.Access) { found++ }
		for j, l := range lines {
			rec.Body().SetStr(l)
			p.Parse(res, rec, int64(j), emit)
		}
		p.Reader().Close(emit)
	}
	b.StopTimer()
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(found)/float64(b.N), "accesses/op")
	b.ReportMetric(float64(len(lines)), "lines/op")
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MB")
	b.ReportMetric(float64(p.Reader().Open()), "open-events")
}
