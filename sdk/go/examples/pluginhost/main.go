// Command pluginhost is a minimal wazero plugin host instrumented with
// wazerohost: it runs one WASI plugin with the allowlisted http_call host
// function and exports the spans over OTLP/HTTP (to sandwatch's OTLP/HTTP
// listener by default). It prints one JSON line: the run's trace id,
// outcome, exit code and the plugin's stdout.
//
//	pluginhost --wasm plugin.wasm --plugin-id ping-checker --allow api.example.com -- ARGS...
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"

	"github.com/sandwatch/sandwatch/sdk/go/wazerohost"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "pluginhost:", err)
		os.Exit(1)
	}
}

func run() error {
	endpoint := flag.String("endpoint", "http://127.0.0.1:4318", "OTLP/HTTP base URL")
	wasmPath := flag.String("wasm", "", "the plugin (a WASI command module)")
	id := flag.String("plugin-id", "", "the plugin's id (plugin.id)")
	version := flag.String("plugin-version", "", "the plugin's version")
	allow := flag.String("allow", "", "comma-separated allowlist of hosts for http_call")
	timeout := flag.Duration("timeout", 10*time.Second, "run timeout")
	flag.Parse()
	if *wasmPath == "" || *id == "" {
		return fmt.Errorf("--wasm and --plugin-id are required")
	}
	wasm, err := os.ReadFile(*wasmPath)
	if err != nil {
		return err
	}
	ctx := context.Background()
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(strings.TrimSuffix(*endpoint, "/")+"/v1/traces"))
	if err != nil {
		return err
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceName("pluginhost"))))
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = tp.Shutdown(sctx) // flushes the batch
	}()

	var list []string
	if *allow != "" {
		list = strings.Split(*allow, ",")
	}
	host, err := wazerohost.New(ctx, wazerohost.Config{Allowlist: list, TracerProvider: tp, RunTimeout: *timeout})
	if err != nil {
		return err
	}
	defer host.Close(ctx)

	res, runErr := host.Run(ctx, wazerohost.Plugin{ID: *id, Version: *version, Wasm: wasm}, flag.Args()...)
	out := map[string]any{
		"trace_id":  res.TraceID.String(),
		"outcome":   res.Outcome,
		"exit_code": res.ExitCode,
		"stdout":    string(res.Stdout),
	}
	if runErr != nil {
		out["error"] = runErr.Error()
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}
