package forensics

import (
	"bytes"
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"

	"github.com/sandwatch/sandwatch/internal/archive"
	"github.com/sandwatch/sandwatch/internal/simulate"
)

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := NewCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func seed(t *testing.T, store string) ([]string, []int) {
	t.Helper()
	b, _, err := archive.Open(context.Background(), store, archive.S3Options{})
	require.NoError(t, err)
	defer b.Close()
	g := simulate.New(simulate.Options{Seed: 5, Extensions: 4})
	w := &archive.Writer{Bucket: b, Format: archive.DefaultFormat}
	var ids []string
	var counts []int
	for i := 0; i < 3; i++ {
		td, _ := g.Invocation(i, time.Now())
		ids = append(ids, archive.TraceHex(td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).TraceID()))
		counts = append(counts, td.SpanCount())
		_, err := w.WriteTraces(context.Background(), td)
		require.NoError(t, err)
	}
	return ids, counts
}

type sink struct {
	ptraceotlp.UnimplementedGRPCServer
	spans atomic.Int64
}

func (s *sink) Export(_ context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	s.spans.Add(int64(req.Traces().SpanCount()))
	return ptraceotlp.NewExportResponse(), nil
}

func TestGetListStatsReplayPrune(t *testing.T) {
	store := "file://" + t.TempDir()
	ids, counts := seed(t, store)
	total := counts[0] + counts[1] + counts[2]

	out, err := run(t, "get", "--store", store, ids[1])
	require.NoError(t, err, out)
	td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces([]byte(strings.SplitN(out, "\n", 2)[0]))
	require.NoError(t, err)
	assert.Equal(t, counts[1], td.SpanCount())

	out, err = run(t, "get", "--store", store, "--format", "tree", ids[1])
	require.NoError(t, err)
	assert.Contains(t, out, "trace "+ids[1])
	assert.Equal(t, counts[1]+1, strings.Count(out, "\n"), "a header and one line per span:\n%s", out)

	_, err = run(t, "get", "--store", store, "../../etc/passwd")
	assert.ErrorIs(t, err, archive.ErrInvalidTraceID)
	_, err = run(t, "get", "--store", store, "0123456789abcdef0123456789abcdef")
	assert.ErrorIs(t, err, archive.ErrNotFound)

	out, err = run(t, "list", "--store", store, "--since", "1h")
	require.NoError(t, err)
	for _, id := range ids {
		assert.Contains(t, out, id)
	}
	out, err = run(t, "list", "--store", store, "--to", time.Now().Add(-time.Hour).Format(time.RFC3339))
	require.NoError(t, err)
	assert.NotContains(t, out, ids[0], "window before the writes")

	out, err = run(t, "stats", "--store", store)
	require.NoError(t, err)
	assert.Contains(t, out, `"traces": 3`)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer()
	s := &sink{}
	ptraceotlp.RegisterGRPCServer(srv, s)
	go func() { _ = srv.Serve(ln) }()
	defer srv.Stop()
	out, err = run(t, "replay", "--store", store, "--endpoint", ln.Addr().String())
	require.NoError(t, err, out)
	assert.Contains(t, out, "replayed 3 traces")
	assert.Equal(t, int64(total), s.spans.Load())

	out, err = run(t, "compact", "--store", store, "--fanout", "2")
	require.NoError(t, err)
	assert.Contains(t, out, "merged 3 lookup runs into 1")
	out, err = run(t, "get", "--store", store, ids[1])
	require.NoError(t, err, "found after compaction")
	assert.Contains(t, out, ids[1])

	out, err = run(t, "prune", "--store", store, "--max-age", "1h")
	require.NoError(t, err)
	assert.Contains(t, out, "pruned 0 objects")
	out, err = run(t, "prune", "--store", store, "--max-age", "0s")
	require.NoError(t, err)
	assert.Contains(t, out, "pruned 3 objects")
	_, err = run(t, "get", "--store", store, ids[0])
	assert.ErrorIs(t, err, archive.ErrNotFound)
}
