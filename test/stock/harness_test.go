// Package stock runs the real sandwatch binary on the stock collector
// configs under testdata/stock/ (the kinds platform teams run today) and
// asserts on what comes out of each.
package stock

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/sandwatch/sandwatch/test/testutil"
)

// stockRun is one collector on one stock config.
type stockRun struct {
	c      *testutil.Collector
	grpc   string // OTLP/gRPC endpoint
	outDir string
}

// startStock starts bin/sandwatch on testdata/stock/<name> with the
// endpoints and output directory the configs read from the environment;
// env may override them (OUT_DIR kept across a restart).
func startStock(t *testing.T, name string, env ...string) *stockRun {
	t.Helper()
	health := testutil.FreePort(t)
	r := &stockRun{grpc: fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t)), outDir: t.TempDir()}
	base := []string{
		fmt.Sprintf("HEALTH_ENDPOINT=127.0.0.1:%d", health),
		"OTLP_GRPC_ENDPOINT=" + r.grpc,
		"OUT_DIR=" + r.outDir,
	}
	// The caller's variables come last and win (exec keeps the last of a key).
	r.c = testutil.StartCollectorFile(t, t.TempDir(), filepath.Join(testutil.RepoRoot(t), "testdata", "stock", name), append(base, env...)...)
	r.c.WaitHealthy(fmt.Sprintf("http://127.0.0.1:%d/", health), 60*time.Second)
	return r
}

func dial(t *testing.T, endpoint string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func sendTraces(t *testing.T, endpoint string, td ptrace.Traces) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := ptraceotlp.NewGRPCClient(dial(t, endpoint)).Export(ctx, ptraceotlp.NewExportRequestFromTraces(td))
	require.NoError(t, err)
}

func sendLogs(t *testing.T, endpoint string, ld plog.Logs) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := plogotlp.NewGRPCClient(dial(t, endpoint)).Export(ctx, plogotlp.NewExportRequestFromLogs(ld))
	require.NoError(t, err)
}

// jsonLines returns the complete lines of a file exporter's output (one
// OTLP/JSON request a line); a missing file is no lines yet, and a line
// still being written (no newline yet) is left for the next read.
func jsonLines(path string) [][]byte {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	raw = raw[:bytes.LastIndexByte(raw, '\n')+1]
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
			out = append(out, append([]byte(nil), line...))
		}
	}
	return out
}

// readSpans returns every span the file exporter wrote to path.
func readSpans(t *testing.T, path string) []ptrace.Span {
	t.Helper()
	var spans []ptrace.Span
	for _, line := range jsonLines(path) {
		td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(line)
		require.NoError(t, err)
		for _, rs := range td.ResourceSpans().All() {
			for _, ss := range rs.ScopeSpans().All() {
				for _, s := range ss.Spans().All() {
					spans = append(spans, s)
				}
			}
		}
	}
	return spans
}

func readLogs(t *testing.T, path string) []plog.LogRecord {
	t.Helper()
	var recs []plog.LogRecord
	for _, line := range jsonLines(path) {
		ld, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(line)
		require.NoError(t, err)
		for _, rl := range ld.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, r := range sl.LogRecords().All() {
					recs = append(recs, r)
				}
			}
		}
	}
	return recs
}

// readSums returns, per metric name and then per data-point attribute
// string, the sum of every Sum point the file exporter wrote.
func readSums(t *testing.T, path string) map[string]map[string]int64 {
	t.Helper()
	out := map[string]map[string]int64{}
	for _, line := range jsonLines(path) {
		md, err := (&pmetric.JSONUnmarshaler{}).UnmarshalMetrics(line)
		require.NoError(t, err)
		for _, rm := range md.ResourceMetrics().All() {
			for _, sm := range rm.ScopeMetrics().All() {
				for _, m := range sm.Metrics().All() {
					if m.Type() != pmetric.MetricTypeSum {
						continue
					}
					if out[m.Name()] == nil {
						out[m.Name()] = map[string]int64{}
					}
					for _, dp := range m.Sum().DataPoints().All() {
						key := fmt.Sprint(dp.Attributes().AsRaw())
						out[m.Name()][key] += dp.IntValue()
					}
				}
			}
		}
	}
	return out
}

// traceID makes a distinct, readable trace id from n.
func traceID(n int) [16]byte {
	var id [16]byte
	for i := range 8 {
		id[15-i] = byte(n >> (8 * i))
	}
	id[0] = 0x5a
	return id
}

func spanID(n int) [8]byte {
	var id [8]byte
	for i := range 8 {
		id[7-i] = byte(n >> (8 * i))
	}
	id[0] |= 0x80
	return id
}
