package otlpsend

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
)

// traceServer counts spans and rejects every span named "reject".
type traceServer struct {
	ptraceotlp.UnimplementedGRPCServer
	spans int
}

func (s *traceServer) Export(_ context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	resp := ptraceotlp.NewExportResponse()
	td := req.Traces()
	s.spans += td.SpanCount()
	rejected := 0
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		spans := td.ResourceSpans().At(i).ScopeSpans().At(0).Spans()
		for k := 0; k < spans.Len(); k++ {
			if spans.At(k).Name() == "reject" {
				rejected++
			}
		}
	}
	resp.PartialSuccess().SetRejectedSpans(int64(rejected))
	return resp, nil
}

func body(t *testing.T, names ...string) []byte {
	td := ptrace.NewTraces()
	spans := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	for _, n := range names {
		spans.AppendEmpty().SetName(n)
	}
	b, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	require.NoError(t, err)
	return b
}

func serve(t *testing.T, network, addr string) (*traceServer, string) {
	ln, err := net.Listen(network, addr)
	require.NoError(t, err)
	srv := grpc.NewServer()
	ts := &traceServer{}
	ptraceotlp.RegisterGRPCServer(srv, ts)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return ts, ln.Addr().String()
}

func TestGRPCAndUnixSocket(t *testing.T) {
	ts, addr := serve(t, "tcp", "127.0.0.1:0")
	s, err := New("grpc", addr)
	require.NoError(t, err)
	defer s.Close()
	rejected, err := s.Send(context.Background(), Traces, body(t, "ok", "reject", "ok"))
	require.NoError(t, err)
	assert.Equal(t, int64(1), rejected)
	assert.Equal(t, 3, ts.spans, "the pre-encoded bytes arrive as sent")

	sock := filepath.Join(t.TempDir(), "otlp.sock")
	us, _ := serve(t, "unix", sock)
	u, err := New("unix", sock)
	require.NoError(t, err)
	defer u.Close()
	_, err = u.Send(context.Background(), Traces, body(t, "a"))
	require.NoError(t, err)
	assert.Equal(t, 1, us.spans)

	_, err = s.Send(context.Background(), Traces, []byte{0xff, 0xff})
	assert.Error(t, err, "the server refuses malformed protobuf")
}

func TestHTTP(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.Path + " " + r.Header.Get("Content-Type")
		if r.URL.Path == "/v1/logs" {
			http.Error(w, "nope", http.StatusBadRequest)
			return
		}
		resp := ptraceotlp.NewExportResponse()
		resp.PartialSuccess().SetRejectedSpans(2)
		b, _ := resp.MarshalProto()
		_, _ = w.Write(b)
	}))
	defer srv.Close()
	s, err := New("http", srv.URL)
	require.NoError(t, err)
	rejected, err := s.Send(context.Background(), Traces, body(t, "x"))
	require.NoError(t, err)
	assert.Equal(t, int64(2), rejected)
	assert.Equal(t, "/v1/traces application/x-protobuf", got)
	_, err = s.Send(context.Background(), Logs, []byte{})
	assert.ErrorContains(t, err, "400")
	_, err = New("carrier-pigeon", "x")
	assert.ErrorContains(t, err, "use grpc, unix or http")
}
