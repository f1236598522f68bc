// Package forensic holds the forensic archive's end-to-end tests: the real
// collector binary writing to a real S3 server (versitygw, SigV4), read
// back by id, listed, pruned, served to a Grafana-like client, and no
// acknowledged span lost when the S3 server or the collector goes away.
package forensic

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/sandwatch/sandwatch/internal/archive"
	"github.com/sandwatch/sandwatch/internal/otlpsend"
	"github.com/sandwatch/sandwatch/internal/simulate"
	"github.com/sandwatch/sandwatch/test/testutil"
)

type ports struct{ otlp, health, query int }

func newPorts(t *testing.T) ports {
	return ports{testutil.FreePort(t), testutil.FreePort(t), testutil.FreePort(t)}
}

// stores are the object stores the shared suite runs on.
var stores = []struct {
	name  string
	start func(*testing.T) store
}{
	{"s3", func(t *testing.T) store { return startS3(t) }},
	{"gcs", func(t *testing.T) store { return startGCS(t) }},
	{"azblob", func(t *testing.T) store { return startAzurite(t) }},
}

// eachStore runs fn as a subtest per store (-run 'TestX/gcs' picks one).
func eachStore(t *testing.T, fn func(t *testing.T, s store)) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) { fn(t, st.start(t)) })
	}
}

// collectorConfig: otlp -> forensic (its write-ahead log in storageDir),
// and forensic_query over the same store.
func collectorConfig(s store, p ports, storageDir string) string {
	return walConfigWith(s, p, storageDir, 1<<30, "", "")
}

// collectorConfigWith adds settings to the exporter's (integrity:,
// encryption:) and to forensic_query's (encryption:).
func collectorConfigWith(s store, p ports, storageDir, exporter, query string) string {
	return walConfigWith(s, p, storageDir, 1<<30, exporter, query)
}

// walConfig is collectorConfig with the WAL bounded to maxBytes.
func walConfig(s store, p ports, storageDir string, maxBytes int64) string {
	return walConfigWith(s, p, storageDir, maxBytes, "", "")
}

func walConfigWith(s store, p ports, storageDir string, maxBytes int64, exporter, query string) string {
	return fmt.Sprintf(`
extensions:
  health_check:
    endpoint: 127.0.0.1:%[2]d
  forensic_query:
    endpoint: 127.0.0.1:%[3]d
    %[5]s%[7]s
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:%[1]d
exporters:
  forensic:
    %[5]s
    prune_interval: 0s%[6]s
    timeout: 30s
    wal:
      directory: %[4]s/wal
      flush_interval: 500ms
      max_bytes: %[8]d
      segment_bytes: %[9]d
service:
  extensions: [health_check, forensic_query]
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [forensic]
    logs:
      receivers: [otlp]
      exporters: [forensic]
`, p.otlp, p.health, p.query, storageDir, s.YAML(), indent(exporter), indent(query), maxBytes, min(16<<20, maxBytes/8))
}

// indent renders settings (YAML at column 0) under a component.
func indent(yaml string) string {
	if yaml == "" {
		return ""
	}
	return "\n    " + strings.ReplaceAll(strings.TrimSpace(yaml), "\n", "\n    ")
}

func startCollector(t *testing.T, cfg string, p ports) *testutil.Collector {
	t.Helper()
	c := testutil.StartCollector(t, cfg)
	c.WaitHealthy(fmt.Sprintf("http://127.0.0.1:%d/", p.health), 60*time.Second)
	return c
}

func reader(t *testing.T, s store) *archive.Reader {
	t.Helper()
	b, _, err := archive.Open(context.Background(), s.StoreURL(), archive.S3Options{})
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	return &archive.Reader{Bucket: b}
}

func httpGet(t *testing.T, url, accept string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// protoField returns the first length-delimited field num of msg.
func protoField(t *testing.T, msg []byte, num protowire.Number) []byte {
	t.Helper()
	for len(msg) > 0 {
		n, typ, l := protowire.ConsumeTag(msg)
		require.GreaterOrEqual(t, l, 0, "bad protobuf tag")
		msg = msg[l:]
		l = protowire.ConsumeFieldValue(n, typ, msg)
		require.GreaterOrEqual(t, l, 0, "bad protobuf field")
		if n == num && typ == protowire.BytesType {
			v, _ := protowire.ConsumeBytes(msg)
			return v
		}
		msg = msg[l:]
	}
	t.Fatalf("protobuf field %d not found", num)
	return nil
}

func ctl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := ctlErr(args...)
	require.NoError(t, err, out)
	return out
}

// TestWriteGetListPruneAndGrafana: write through the collector, then read
// by id (library, CLI, and the Tempo API as Grafana calls it), list, prune;
// on every store.
func TestWriteGetListPruneAndGrafana(t *testing.T) { eachStore(t, writeGetListPrune) }

func writeGetListPrune(t *testing.T, s store) {
	p := newPorts(t)
	startCollector(t, collectorConfig(s, p, t.TempDir()), p)

	g := simulate.New(simulate.Options{Seed: 11, Extensions: 20})
	snd, err := otlpsend.New("grpc", fmt.Sprintf("127.0.0.1:%d", p.otlp))
	require.NoError(t, err)
	defer snd.Close()
	want := map[string]int{}
	var ext string
	for i := 0; i < 20; i++ {
		td, _ := g.Invocation(i, time.Now())
		span0 := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
		want[archive.TraceHex(span0.TraceID())] = td.SpanCount()
		if i == 0 {
			ext = g.Extensions()[0].ID
		}
		body, _ := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
		_, err := snd.Send(context.Background(), otlpsend.Traces, body)
		require.NoError(t, err)
	}
	r := reader(t, s)
	a := testutil.NewAcked(want)
	testutil.WaitAllArchived(t, a, r, 30*time.Second)

	var anyID string
	for id := range want {
		anyID = id
		break
	}
	store := []string{"--store", s.StoreURL()}
	out := ctl(t, append([]string{"get", anyID}, store...)...)
	td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces([]byte(strings.SplitN(out, "\n", 2)[0]))
	require.NoError(t, err)
	assert.Equal(t, want[anyID], td.SpanCount())
	out = ctl(t, append([]string{"get", "--format", "tree", anyID}, store...)...)
	assert.Contains(t, out, "trace "+anyID)

	out = ctl(t, append([]string{"list", "--since", "10m"}, store...)...)
	for id := range want {
		assert.Contains(t, out, id)
	}
	out = ctl(t, append([]string{"list", "--json", "--extension", ext}, store...)...)
	assert.NotEmpty(t, strings.TrimSpace(out), "traces of extension %s", ext)
	assert.Less(t, strings.Count(out, "\n"), len(want), "the extension filter filters")
	out = ctl(t, append([]string{"stats"}, store...)...)
	assert.Contains(t, out, fmt.Sprintf(`"traces": %d`, len(want)))

	// Grafana's Tempo data source: v2 protobuf, then JSON.
	base := fmt.Sprintf("http://127.0.0.1:%d", p.query)
	code, body := httpGet(t, base+"/api/echo", "")
	assert.Equal(t, 200, code)
	assert.Equal(t, "echo", string(body))
	code, body = httpGet(t, base+"/api/v2/traces/"+anyID, "application/protobuf")
	require.Equal(t, 200, code, string(body))
	trace := protoField(t, body, 1) // TraceByIDResponse.trace
	protoField(t, trace, 1)         // Trace.resourceSpans
	td, err = (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(trace)
	require.NoError(t, err)
	assert.Equal(t, want[anyID], td.SpanCount())
	code, body = httpGet(t, base+"/api/v2/traces/"+anyID, "application/json")
	require.Equal(t, 200, code)
	var v2 struct {
		Trace json.RawMessage `json:"trace"`
	}
	require.NoError(t, json.Unmarshal(body, &v2))
	td, err = (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(v2.Trace)
	require.NoError(t, err)
	assert.Equal(t, want[anyID], td.SpanCount())
	code, _ = httpGet(t, base+"/api/traces/0123456789abcdef0123456789abcdef", "")
	assert.Equal(t, 404, code)

	out = ctl(t, append([]string{"prune", "--max-age", "1h"}, store...)...)
	assert.Contains(t, out, "pruned 0 objects")
	out = ctl(t, append([]string{"prune", "--max-age", "0s"}, store...)...)
	var blocks, catalogs int
	_, err = fmt.Sscanf(out, "pruned %d objects, %d index objects", &blocks, &catalogs)
	require.NoError(t, err, out)
	assert.Positive(t, blocks, "blocks pruned")
	assert.GreaterOrEqual(t, catalogs, blocks, "a catalog per block, plus lookup runs")
	out = ctl(t, append([]string{"stats"}, store...)...)
	assert.Contains(t, out, `"traces": 0`)
	id, _ := archive.ParseTraceID(anyID)
	_, err = r.Get(context.Background(), id)
	assert.ErrorIs(t, err, archive.ErrNotFound)
}

// TestS3OutageUnderLoad: the S3 server is stopped for a while under load
// and restarted; every acknowledged span ends up in the archive.
func TestS3OutageUnderLoad(t *testing.T) {
	s := startS3(t)
	p := newPorts(t)
	startCollector(t, collectorConfig(s, p, t.TempDir()), p)
	stop := make(chan struct{})
	a := testutil.Load(t, fmt.Sprintf("127.0.0.1:%d", p.otlp), stop, simulate.Options{Seed: 21, Extensions: 50})
	time.Sleep(3 * time.Second)
	s.Stop()
	t.Log("S3 server stopped")
	time.Sleep(8 * time.Second)
	s.Start()
	t.Log("S3 server restarted")
	time.Sleep(3 * time.Second)
	close(stop)
	testutil.WaitAllArchived(t, a, reader(t, s), 60*time.Second)
}

// TestCollectorSIGKILLUnderLoad: the collector is killed with SIGKILL
// under load and restarted on the same WAL; every acknowledged span ends
// up in the archive; on every store.
func TestCollectorSIGKILLUnderLoad(t *testing.T) { eachStore(t, sigkillUnderLoad) }

func sigkillUnderLoad(t *testing.T, s store) {
	p := newPorts(t)
	storage := t.TempDir()
	cfg := collectorConfig(s, p, storage)
	c := startCollector(t, cfg, p)
	stop := make(chan struct{})
	a := testutil.Load(t, fmt.Sprintf("127.0.0.1:%d", p.otlp), stop, simulate.Options{Seed: 31, Extensions: 50})
	// Slow the store down so the queue holds data when the kill lands.
	time.Sleep(3 * time.Second)
	s.Stop()
	time.Sleep(2 * time.Second)
	c.Kill()
	t.Log("collector killed")
	// The kill must land while data waits in the WAL, so the restart
	// replays it (the store was down for the last 2 s of load).
	pending := dirBytes(filepath.Join(storage, "wal"))
	t.Logf("%d bytes in the WAL at the kill", pending)
	require.Greater(t, pending, int64(4096), "nothing waited in the WAL: the replay is not exercised")
	s.Start()
	startCollector(t, cfg, p)
	time.Sleep(3 * time.Second)
	close(stop)
	testutil.WaitAllArchived(t, a, reader(t, s), 60*time.Second)
}

// dirBytes is the size of the files under dir.
func dirBytes(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, _ error) error {
		if d != nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// TestWALDiskBoundWhileStoreDown: the S3 server is down long enough for
// the WAL to reach max_bytes; the receiver then refuses (retryable) and
// the disk stays within the bound; once the store is back the WAL drains,
// senders are accepted again, and everything acknowledged is archived.
func TestWALDiskBoundWhileStoreDown(t *testing.T) {
	const maxBytes = 2 << 20
	s := startS3(t)
	p := newPorts(t)
	storage := t.TempDir()
	startCollector(t, walConfig(s, p, storage, maxBytes), p)
	stop := make(chan struct{})
	a := testutil.Load(t, fmt.Sprintf("127.0.0.1:%d", p.otlp), stop, simulate.Options{Seed: 41, Extensions: 50})
	time.Sleep(2 * time.Second)
	s.Stop()
	t.Log("S3 server stopped")
	testutil.Eventually(t, 60*time.Second, func() bool { return a.Refusals() > 5 }, "back-pressure once the WAL is full")
	walDir := filepath.Join(storage, "wal")
	peak := dirBytes(walDir)
	for range 3 {
		time.Sleep(time.Second)
		peak = max(peak, dirBytes(walDir))
	}
	t.Logf("WAL at %d bytes (max_bytes %d), %d requests refused", peak, maxBytes, a.Refusals())
	assert.LessOrEqual(t, peak, int64(maxBytes)+64, "the WAL beyond max_bytes (the cursor file aside)")
	s.Start()
	t.Log("S3 server restarted")
	refusedAtRestart := a.Refusals()
	_, spansAtRestart := a.Count()
	testutil.Eventually(t, 60*time.Second, func() bool {
		_, n := a.Count()
		return n > spansAtRestart+100
	}, "senders accepted again after the store came back")
	time.Sleep(2 * time.Second)
	close(stop)
	t.Logf("%d requests refused in all (%d by the restart)", a.Refusals(), refusedAtRestart)
	testutil.WaitAllArchived(t, a, reader(t, s), 60*time.Second)
	testutil.Eventually(t, 30*time.Second, func() bool { return dirBytes(walDir) < maxBytes/2 }, "the WAL drained")
}
