package samples

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
)

// AuditLog loads an audit-log sample (one JSON object a line:
// js_sandbox_audit.jsonl, container_monitor_audit.jsonl) the way the
// file_log receiver's json_parser with `parse_to: body` hands it on: one
// log record per line whose body is the parsed object.
func AuditLog(tb testing.TB, name string) plog.Logs {
	tb.Helper()
	raw, err := os.ReadFile(Path(name))
	if err != nil {
		tb.Fatal(err)
	}
	ld := plog.NewLogs()
	records := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		var obj map[string]any
		if err := json.Unmarshal(sc.Bytes(), &obj); err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
		if err := records.AppendEmpty().Body().SetEmptyMap().FromRaw(obj); err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
	}
	return ld
}
