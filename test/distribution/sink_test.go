package distribution

import (
	"context"
	"net"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	_ "google.golang.org/grpc/encoding/gzip" // the otlp exporter compresses by default
)

// backend is an in-test OTLP/gRPC server standing in for a tracing backend:
// it counts what a collector's otlp exporter delivers.
type backend struct {
	spans, logs atomic.Int64
	addr        string
}

type tracesBackend struct {
	ptraceotlp.UnimplementedGRPCServer
	b *backend
}

func (tb tracesBackend) Export(_ context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	tb.b.spans.Add(int64(req.Traces().SpanCount()))
	return ptraceotlp.NewExportResponse(), nil
}

type logsBackend struct {
	plogotlp.UnimplementedGRPCServer
	b *backend
}

func (l logsBackend) Export(_ context.Context, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
	l.b.logs.Add(int64(req.Logs().LogRecordCount()))
	return plogotlp.NewExportResponse(), nil
}

func startBackend(t *testing.T) *backend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	b := &backend{addr: ln.Addr().String()}
	ptraceotlp.RegisterGRPCServer(srv, &tracesBackend{b: b})
	plogotlp.RegisterGRPCServer(srv, &logsBackend{b: b})
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return b
}
