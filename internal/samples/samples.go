// Package samples loads the OTLP JSON samples under testdata/samples (one
// per sandbox host profile) for tests and benchmarks.
package samples

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Path returns the path of testdata/samples/name.
func Path(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "samples", name)
}

// Traces loads a traces sample (goose.json, wazero.json, semconv.json).
func Traces(tb testing.TB, name string) ptrace.Traces {
	tb.Helper()
	raw, err := os.ReadFile(Path(name))
	if err != nil {
		tb.Fatal(err)
	}
	td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(raw)
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return td
}

// Logs loads a logs sample (js_capability_audit.json, container_monitor.json).
func Logs(tb testing.TB, name string) plog.Logs {
	tb.Helper()
	raw, err := os.ReadFile(Path(name))
	if err != nil {
		tb.Fatal(err)
	}
	ld, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(raw)
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return ld
}
