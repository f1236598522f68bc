package stock

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/test/testutil"
)

// file_log (under its old name, filelog): JSON lines parsed into
// attributes, timestamp and severity; a restart resumes from the offsets
// kept on file_storage, so no line is read twice or skipped.
func TestFilelogJSONResumesAfterRestart(t *testing.T) {
	logDir := t.TempDir()
	storage := t.TempDir()
	logFile := filepath.Join(logDir, "app.log")
	appendLines := func(from, to int) {
		f, err := os.OpenFile(logFile, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		require.NoError(t, err)
		defer f.Close()
		for i := from; i < to; i++ {
			level := "info"
			if i%4 == 0 {
				level = "error"
			}
			_, err := fmt.Fprintf(f, `{"time":"2026-11-29T08:%02d:%02dZ","level":"%s","msg":"request %d","seq":%d}`+"\n", i/60, i%60, level, i, i)
			require.NoError(t, err)
		}
	}
	appendLines(0, 40)
	env := []string{"LOG_GLOB=" + filepath.Join(logDir, "*.log"), "STORAGE_DIR=" + storage}
	outDir := t.TempDir()
	run := func() *stockRun { return startStock(t, "filelog-json.yaml", append(env, "OUT_DIR="+outDir)...) }
	count := func() map[int64]int {
		seen := map[int64]int{}
		for _, l := range readLogs(t, filepath.Join(outDir, "logs.json")) {
			if seq, ok := seqOf(l); ok {
				seen[seq]++
			}
		}
		return seen
	}
	r := run()
	testutil.Eventually(t, 20*time.Second, func() bool { return len(count()) == 40 }, "first 40 lines read: %d", len(count()))
	r.c.Stop()
	appendLines(40, 70)
	run()
	testutil.Eventually(t, 20*time.Second, func() bool { return len(count()) == 70 }, "all 70 lines read: %d", len(count()))
	time.Sleep(500 * time.Millisecond)
	for seq, n := range count() {
		assert.Equal(t, 1, n, "line %d read %d times", seq, n)
	}
	for _, l := range readLogs(t, filepath.Join(outDir, "logs.json")) {
		seq, _ := seqOf(l)
		want := plog.SeverityNumberInfo
		if seq%4 == 0 {
			want = plog.SeverityNumberError
		}
		assert.Equal(t, want, l.SeverityNumber(), "line %d severity", seq)
		wantTS := time.Date(2026, 11, 29, 8, int(seq/60), int(seq%60), 0, time.UTC)
		assert.Equal(t, wantTS, l.Timestamp().AsTime(), "line %d timestamp", seq)
	}
}

// seqOf reads the "seq" field the json_parser put into the attributes (a
// JSON number arrives as a double).
func seqOf(l plog.LogRecord) (int64, bool) {
	v, ok := l.Attributes().Get("seq")
	if !ok {
		return 0, false
	}
	if v.Type() == pcommon.ValueTypeDouble {
		return int64(v.Double()), true
	}
	return v.Int(), true
}

// count: spans counted per route, error logs counted.
func TestCountConnector(t *testing.T) {
	r := startStock(t, "count.yaml")
	td := ptrace.NewTraces()
	spans := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	for i, route := range []string{"/a", "/a", "/b", "/a", "", "/b", "/a", "", "/b"} {
		s := spans.AppendEmpty()
		s.SetTraceID(traceID(i + 1))
		s.SetSpanID(spanID(i + 1))
		if route != "" {
			s.Attributes().PutStr("http.route", route)
		}
	}
	sendTraces(t, r.grpc, td)
	ld := plog.NewLogs()
	recs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for _, sev := range []plog.SeverityNumber{plog.SeverityNumberError, plog.SeverityNumberInfo, plog.SeverityNumberFatal, plog.SeverityNumberError, plog.SeverityNumberWarn} {
		recs.AppendEmpty().SetSeverityNumber(sev)
	}
	sendLogs(t, r.grpc, ld)

	var sums map[string]map[string]int64
	testutil.Eventually(t, 20*time.Second, func() bool {
		sums = readSums(t, filepath.Join(r.outDir, "metrics.json"))
		return len(sums["http.requests.count"]) == 2 && len(sums["error.logs.count"]) == 1
	}, "count metrics: %v", sums)
	assert.Equal(t, map[string]int64{"map[http.route:/a]": 4, "map[http.route:/b]": 3}, sums["http.requests.count"])
	assert.Equal(t, map[string]int64{"map[]": 3}, sums["error.logs.count"])
}

// load_balancing (old name loadbalancing) in front of two backends: every
// span arrives exactly once, each trace whole at one backend, and both
// backends get a share.
func TestLoadBalancingTwoTier(t *testing.T) {
	b1 := startStock(t, "loadbalancing-tier2.yaml")
	b2 := startStock(t, "loadbalancing-tier2.yaml")
	front := startStock(t, "loadbalancing-tier1.yaml", "BACKEND_1="+b1.grpc, "BACKEND_2="+b2.grpc)

	const traces, perTrace = 60, 4
	for batch := range 3 { // a trace's spans arrive in different batches
		td := ptrace.NewTraces()
		spans := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
		for n := 1; n <= traces; n++ {
			for k := batch; k < perTrace; k += 3 {
				s := spans.AppendEmpty()
				s.SetTraceID(traceID(n))
				s.SetSpanID(spanID(n*10 + k))
				s.SetName(fmt.Sprintf("span-%d", k))
			}
		}
		sendTraces(t, front.grpc, td)
	}
	where := map[pcommon.TraceID]map[int]int{}
	collect := func() int {
		where = map[pcommon.TraceID]map[int]int{}
		total := 0
		for i, b := range []*stockRun{b1, b2} {
			for _, s := range readSpans(t, filepath.Join(b.outDir, "traces.json")) {
				if where[s.TraceID()] == nil {
					where[s.TraceID()] = map[int]int{}
				}
				where[s.TraceID()][i]++
				total++
			}
		}
		return total
	}
	testutil.Eventually(t, 30*time.Second, func() bool { return collect() >= traces*perTrace }, "spans at the backends: %d of %d", collect(), traces*perTrace)
	time.Sleep(300 * time.Millisecond)
	require.Equal(t, traces*perTrace, collect(), "every span exactly once")
	perBackend := [2]int{}
	for id, at := range where {
		require.Len(t, at, 1, "trace %s split across backends: %v", id, at)
		for i, n := range at {
			assert.Equal(t, perTrace, n, "trace %s", id)
			perBackend[i]++
		}
	}
	assert.Positive(t, perBackend[0], "backend 1 got no trace")
	assert.Positive(t, perBackend[1], "backend 2 got no trace")
}

// kafka: no broker runs here, so the config is validated by the binary
// (every field resolved by the real factories), and a wrong field fails
// naming it.
func TestKafkaConfigValidates(t *testing.T) {
	bin := testutil.Binary(t, "SANDWATCH_BIN")
	cfg := filepath.Join(testutil.RepoRoot(t), "testdata", "stock", "kafka.yaml")
	cmd := exec.Command(bin, "validate", "--config", cfg)
	cmd.Env = append(os.Environ(), "KAFKA_BROKER=127.0.0.1:9092")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	raw, err := os.ReadFile(cfg)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(bad, []byte(strings.Replace(string(raw), "compression: zstd", "compresion: zstd", 1)), 0o600))
	cmd = exec.Command(bin, "validate", "--config", bad)
	cmd.Env = append(os.Environ(), "KAFKA_BROKER=127.0.0.1:9092")
	out, err = cmd.CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(out), "compresion")
}
