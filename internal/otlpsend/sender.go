// Package otlpsend sends pre-encoded OTLP export requests over gRPC (TCP or
// a unix socket) or HTTP/protobuf. Sending bytes that were encoded once,
// ahead of time, keeps a load generator from measuring itself.
package otlpsend

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/metadata"
)

// Signal is what a request carries.
type Signal uint8

const (
	Traces Signal = iota
	Logs
)

var grpcMethods = [...]string{
	"/opentelemetry.proto.collector.trace.v1.TraceService/Export",
	"/opentelemetry.proto.collector.logs.v1.LogsService/Export",
}

var httpPaths = [...]string{"/v1/traces", "/v1/logs"}

// Sender sends encoded ExportTrace/LogsServiceRequest bodies and returns how
// many items the receiver rejected in a partial success.
type Sender interface {
	Send(ctx context.Context, sig Signal, body []byte) (rejected int64, err error)
	Close() error
}

// New returns a sender for endpoint, by protocol:
//   - "grpc": host:port, or unix:///path/to.sock for a unix socket;
//   - "http": http://host:port (the /v1/... path is added).
//
// TLS and headers come from the standard OTLP exporter environment (see
// OptionsFromEnv), as for any OTLP SDK exporter.
func New(protocol, endpoint string) (Sender, error) {
	opts, err := OptionsFromEnv()
	if err != nil {
		return nil, err
	}
	return NewWith(protocol, endpoint, opts)
}

// NewWith is New with explicit options (the environment is not read).
func NewWith(protocol, endpoint string, opts Options) (Sender, error) {
	switch protocol {
	case "grpc", "unix":
		target := endpoint
		if protocol == "unix" && !strings.HasPrefix(endpoint, "unix:") {
			// gRPC reads unix://x/y as authority x: address the socket
			// by its absolute path.
			abs, err := filepath.Abs(endpoint)
			if err != nil {
				return nil, fmt.Errorf("socket path %s: %w", endpoint, err)
			}
			target = "unix://" + abs
		}
		creds := insecure.NewCredentials()
		if opts.TLS != nil {
			creds = credentials.NewTLS(opts.TLS)
		}
		conn, err := grpc.NewClient(strings.TrimPrefix(target, "https://"), grpc.WithTransportCredentials(creds),
			grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{}), grpc.MaxCallSendMsgSize(64<<20)))
		if err != nil {
			return nil, fmt.Errorf("otlp grpc client for %s: %w", endpoint, err)
		}
		return &grpcSender{conn: conn, md: opts.metadata()}, nil
	case "http":
		if !strings.HasPrefix(endpoint, "http://") && !strings.HasPrefix(endpoint, "https://") {
			endpoint = "http://" + endpoint
		}
		if opts.TLS != nil {
			endpoint = "https://" + strings.TrimPrefix(endpoint, "http://")
		}
		return &httpSender{base: strings.TrimRight(endpoint, "/"), headers: opts.Headers, client: &http.Client{
			Timeout:   30 * time.Second,
			Transport: &http.Transport{MaxIdleConnsPerHost: 64, DialContext: (&net.Dialer{}).DialContext, TLSClientConfig: opts.TLS},
		}}, nil
	}
	return nil, fmt.Errorf("protocol %q: use grpc, unix or http", protocol)
}

// rawCodec passes already-encoded protobuf through gRPC untouched.
type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) ([]byte, error) {
	if b, ok := v.(*[]byte); ok {
		return *b, nil
	}
	return nil, fmt.Errorf("rawCodec: cannot marshal %T", v)
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	if b, ok := v.(*[]byte); ok {
		*b = append((*b)[:0], data...)
		return nil
	}
	return fmt.Errorf("rawCodec: cannot unmarshal into %T", v)
}

var _ encoding.Codec = rawCodec{}

type grpcSender struct {
	conn *grpc.ClientConn
	md   metadata.MD
}

func (s *grpcSender) Send(ctx context.Context, sig Signal, body []byte) (int64, error) {
	if len(s.md) > 0 {
		ctx = metadata.NewOutgoingContext(ctx, s.md)
	}
	var resp []byte
	if err := s.conn.Invoke(ctx, grpcMethods[sig], &body, &resp); err != nil {
		return 0, err
	}
	return rejectedIn(sig, resp)
}

func (s *grpcSender) Close() error { return s.conn.Close() }

type httpSender struct {
	base    string
	headers map[string]string
	client  *http.Client
}

func (s *httpSender) Send(ctx context.Context, sig Signal, body []byte) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+httpPaths[sig], bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	for k, v := range s.headers {
		req.Header.Set(k, v)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("otlp http %s: %s: %s", httpPaths[sig], resp.Status, strings.TrimSpace(string(data)))
	}
	return rejectedIn(sig, data)
}

func (s *httpSender) Close() error { s.client.CloseIdleConnections(); return nil }

func rejectedIn(sig Signal, resp []byte) (int64, error) {
	if len(resp) == 0 {
		return 0, nil
	}
	switch sig {
	case Traces:
		r := ptraceotlp.NewExportResponse()
		if err := r.UnmarshalProto(resp); err != nil {
			return 0, fmt.Errorf("decoding export response: %w", err)
		}
		return r.PartialSuccess().RejectedSpans(), nil
	case Logs:
		r := plogotlp.NewExportResponse()
		if err := r.UnmarshalProto(resp); err != nil {
			return 0, fmt.Errorf("decoding export response: %w", err)
		}
		return r.PartialSuccess().RejectedLogRecords(), nil
	}
	return 0, errors.New("unknown signal")
}
