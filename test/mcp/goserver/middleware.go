package main

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
)

// The MCP semantic conventions' server side (semantic-conventions-genai
// docs/gen-ai/mcp.md): one SERVER span per incoming request, named
// "{mcp.method.name} {target}", parented on the trace context the client
// put in params._meta (traceparent, tracestate), with mcp.method.name,
// gen_ai.tool.name, mcp.resource.uri, network.transport=pipe, and on
// failure error.type (the JSON-RPC code, or tool_error for an isError
// result) and status ERROR. Arguments are opt-in content.

func setupTracing(ctx context.Context) (func(context.Context) error, error) {
	exp, err := otlptracehttp.New(ctx) // OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
	if err != nil {
		return nil, err
	}
	res := resource.NewSchemaless(semconv.ServiceName(serverName), semconv.ServiceVersion("1.0.0"))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	return tp.Shutdown, nil
}

// metaCarrier reads W3C trace context from params._meta.
type metaCarrier map[string]any

func (m metaCarrier) Get(k string) string {
	if s, ok := m[k].(string); ok {
		return s
	}
	return ""
}
func (m metaCarrier) Set(k, v string) { m[k] = v }
func (m metaCarrier) Keys() []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

func traceMiddleware(captureContent bool) mcp.Middleware {
	tracer := otel.Tracer("sandwatch/test/mcp/goserver")
	prop := propagation.TraceContext{}
	return func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			params := req.GetParams()
			// Notifications such as notifications/initialized may carry a
			// typed nil: GetMeta would dereference it.
			if params != nil && !reflect.ValueOf(params).IsNil() {
				if meta := params.GetMeta(); meta != nil {
					ctx = prop.Extract(ctx, metaCarrier(meta))
				}
			}
			name := method
			attrs := []attribute.KeyValue{attribute.String("mcp.method.name", method), attribute.String("network.transport", "pipe")}
			switch p := params.(type) {
			case *mcp.CallToolParamsRaw:
				name += " " + p.Name
				attrs = append(attrs, attribute.String("gen_ai.tool.name", p.Name), attribute.String("gen_ai.operation.name", "execute_tool"))
				if captureContent && len(p.Arguments) > 0 {
					attrs = append(attrs, attribute.String("gen_ai.tool.call.arguments", string(p.Arguments)))
				}
			case *mcp.ReadResourceParams:
				attrs = append(attrs, attribute.String("mcp.resource.uri", p.URI))
			}
			ctx, span := tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
			defer span.End()
			res, err := next(ctx, method, req)
			var rpcErr *jsonrpc.Error
			switch {
			case errors.As(err, &rpcErr):
				span.SetAttributes(attribute.String("error.type", jsonCode(rpcErr.Code)), attribute.Int64("rpc.response.status_code", rpcErr.Code))
				span.SetStatus(codes.Error, rpcErr.Message)
			case err != nil:
				span.SetAttributes(attribute.String("error.type", "_OTHER"))
				span.SetStatus(codes.Error, err.Error())
			default:
				if r, ok := res.(*mcp.CallToolResult); ok && r.IsError {
					msg := ""
					if len(r.Content) > 0 {
						if t, ok := r.Content[0].(*mcp.TextContent); ok {
							msg = t.Text
						}
					}
					span.SetAttributes(attribute.String("error.type", "tool_error"))
					span.SetStatus(codes.Error, msg)
				}
			}
			return res, err
		}
	}
}

func jsonCode(code int64) string {
	b, _ := json.Marshal(code)
	return string(b)
}
