package simulatecmd

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/sandwatch/sandwatch/internal/sandboxevent"
	"github.com/sandwatch/sandwatch/internal/simulate"
)

// otlpSink is an OTLP/HTTP receiver that keeps what it is sent.
type otlpSink struct {
	mu     sync.Mutex
	traces []ptrace.Traces
	logs   []plog.Logs
}

func (s *otlpSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r.URL.Path {
	case "/v1/traces":
		req := ptraceotlp.NewExportRequest()
		if err := req.UnmarshalProto(body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.traces = append(s.traces, req.Traces())
	case "/v1/logs":
		req := plogotlp.NewExportRequest()
		if err := req.UnmarshalProto(body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.logs = append(s.logs, req.Logs())
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
}

// `simulate --agents --scenario all` sends agent sessions in every emitter's
// shape, each attack once, with its ground truth; the event model reads
// every tool record as agent telemetry.
func TestSimulateAgents(t *testing.T) {
	sink := &otlpSink{}
	srv := httptest.NewServer(sink)
	defer srv.Close()
	truth := filepath.Join(t.TempDir(), "truth.jsonl")
	cmd := NewCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"--agents", "--protocol", "http", "--endpoint", srv.URL, "--duration", "1s", "--rate", "40",
		"--extensions", "12", "--noise", "--scenario", "all", "--truth", truth, "--json"})
	require.NoError(t, cmd.Execute())
	var sum Summary
	require.NoError(t, json.Unmarshal(out.Bytes(), &sum), out.String())
	assert.Zero(t, sum.Failed)
	assert.Equal(t, int64(len(simulate.AgentScenarios())), sum.Injected)

	f, err := os.Open(truth)
	require.NoError(t, err)
	defer f.Close()
	scenarios := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var rec TruthRecord
		require.NoError(t, json.Unmarshal(sc.Bytes(), &rec))
		assert.Equal(t, simulate.AgentAnomalyType(rec.Scenario), rec.Anomaly)
		scenarios[rec.Scenario] = true
	}
	assert.Len(t, scenarios, len(simulate.AgentScenarios()))

	c := sandboxevent.MustNew(sandboxevent.Config{})
	emitters := map[string]int{}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	for _, td := range sink.traces {
		c.EachSpan(td, func(_ ptrace.Span, ev *sandboxevent.Event, _ ptrace.ResourceSpans, _ ptrace.ScopeSpans) {
			if sandboxevent.IsCall(ev) {
				emitters[ev.Agent.Emitter.String()]++
			}
		})
	}
	for _, ld := range sink.logs {
		c.EachLog(ld, func(_ plog.LogRecord, ev *sandboxevent.Event, _ plog.ResourceLogs, _ plog.ScopeLogs) {
			assert.True(t, ev.IsAgent(), "every simulated log record is an agent event")
			if sandboxevent.IsCall(ev) {
				emitters[ev.Agent.Emitter.String()]++
			}
		})
	}
	for _, e := range simulate.AgentEmitters() {
		assert.Positive(t, emitters[e], "tool calls in the %s shape: %v", e, emitters)
	}
}
