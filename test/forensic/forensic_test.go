// Package forensic holds the forensic archive's end-to-end tests: the real
// collector binary writing to a real S3 server (versitygw, SigV4), read
// back by id, listed, pruned, served to a Grafana-like client, and no
// acknowledged span lost when the S3 server or the collector goes away.
package forensic

import (
	"bytes"
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

	"github.com/sandwatch/sandwatch/cmd/sandwatchctl/forensics"
	"github.com/sandwatch/sandwatch/internal/archive"
	"github.com/sandwatch/sandwatch/internal/otlpsend"
	"github.com/sandwatch/sandwatch/internal/simulate"
	"github.com/sandwatch/sandwatch/test/testutil"
)

// bucket is the test S3 server's bucket.
const bucket = "forensic"

type ports struct{ otlp, health, query int }

func newPorts(t *testing.T) ports {
	return ports{testutil.FreePort(t), testutil.FreePort(t), testutil.FreePort(t)}
}

// collectorConfig: otlp -> forensic (persistent queue on file_storage in
// storageDir), and forensic_query over the same store.
func collectorConfig(s *testutil.S3Server, p ports, storageDir string) string {
	return fmt.Sprintf(`
extensions:
  health_check:
    endpoint: 127.0.0.1:%[2]d
  file_storage:
    directory: %[4]s
  forensic_query:
    endpoint: 127.0.0.1:%[3]d
    store: s3://%[5]s
    s3: {endpoint: "%[6]s", region: us-east-1, use_path_style: true}
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:%[1]d
exporters:
  forensic:
    store: s3://%[5]s
    s3: {endpoint: "%[6]s", region: us-east-1, use_path_style: true}
    prune_interval: 0s
    timeout: 30s
    sending_queue:
      storage: file_storage
      batch:
        flush_timeout: 500ms
    retry_on_failure:
      initial_interval: 200ms
      max_interval: 1s
      max_elapsed_time: 0s
service:
  extensions: [health_check, file_storage, forensic_query]
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
`, p.otlp, p.health, p.query, storageDir, bucket, s.Endpoint())
}

func startCollector(t *testing.T, cfg string, p ports) *testutil.Collector {
	t.Helper()
	c := testutil.StartCollector(t, cfg)
	c.WaitHealthy(fmt.Sprintf("http://127.0.0.1:%d/", p.health), 60*time.Second)
	return c
}

func reader(t *testing.T, s *testutil.S3Server) *archive.Reader {
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
	cmd := forensics.NewCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	require.NoError(t, cmd.ExecuteContext(context.Background()), out.String())
	return out.String()
}

// TestWriteGetListPruneAndGrafana: write through the collector, then read
// by id (library, CLI, and the Tempo API as Grafana calls it), list, prune.
func TestWriteGetListPruneAndGrafana(t *testing.T) {
	s := testutil.StartS3(t, bucket)
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
	s := testutil.StartS3(t, bucket)
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
// under load and restarted on the same persistent queue; every
// acknowledged span ends up in the archive.
func TestCollectorSIGKILLUnderLoad(t *testing.T) {
	s := testutil.StartS3(t, bucket)
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
	queued := 0
	_ = filepath.WalkDir(storage, func(_ string, d os.DirEntry, _ error) error {
		if d != nil && !d.IsDir() {
			queued++
		}
		return nil
	})
	t.Logf("%d files in the persistent queue's directory", queued)
	s.Start()
	startCollector(t, cfg, p)
	time.Sleep(3 * time.Second)
	close(stop)
	testutil.WaitAllArchived(t, a, reader(t, s), 60*time.Second)
}
