package simulatecmd

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/sandwatch/sandwatch/internal/otlpsend"
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

// `simulate --agents --high-rate` cycles pre-encoded traces and logs
// requests of the agent mix: both signals arrive, every emitter's shape is
// in them, what arrives is what the summary counts, and two full cycles
// carry twice the spans and log records the generator made.
func TestSimulateAgentsHighRate(t *testing.T) {
	sink := &otlpSink{}
	srv := httptest.NewServer(sink)
	defer srv.Close()
	args := []string{"--agents", "--high-rate", "--protocol", "http", "--endpoint", srv.URL, "--duration", "0",
		"--extensions", "24", "--batches", "6", "--batch-spans", "300", "--cycle-calls", "600", "--seed", "7", "--json"}

	reqs, err := encodeHighRate(agentHighRate(24, 6, 300, 0.5), time.Now())
	require.NoError(t, err)
	var genSpans, genLogs int64
	for _, r := range reqs {
		if r.signal == otlpsend.Traces {
			genSpans += r.records
		} else {
			genLogs += r.records
		}
	}
	require.Positive(t, genSpans)
	require.Positive(t, genLogs)

	cmd := NewCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs(append(args, "--max-requests", fmt.Sprint(2*len(reqs))))
	require.NoError(t, cmd.Execute())
	var sum Summary
	require.NoError(t, json.Unmarshal(out.Bytes(), &sum), out.String())
	assert.Zero(t, sum.Failed, sum.LastError)
	assert.Equal(t, int64(2*len(reqs)), sum.Requests)
	assert.Equal(t, 2*genSpans, sum.Spans)
	assert.Equal(t, 2*genLogs, sum.LogRecords)
	assert.Equal(t, sum.Spans+sum.LogRecords, sum.Records)

	sink.mu.Lock()
	defer sink.mu.Unlock()
	var gotSpans, gotLogs int64
	c := sandboxevent.MustNew(sandboxevent.Config{})
	emitters := map[string]bool{}
	for _, td := range sink.traces {
		gotSpans += int64(td.SpanCount())
		c.EachSpan(td, func(_ ptrace.Span, ev *sandboxevent.Event, _ ptrace.ResourceSpans, _ ptrace.ScopeSpans) {
			if sandboxevent.IsCall(ev) {
				emitters[ev.Agent.Emitter.String()] = true
			}
		})
	}
	for _, ld := range sink.logs {
		gotLogs += int64(ld.LogRecordCount())
		c.EachLog(ld, func(_ plog.LogRecord, ev *sandboxevent.Event, _ plog.ResourceLogs, _ plog.ScopeLogs) {
			if sandboxevent.IsCall(ev) {
				emitters[ev.Agent.Emitter.String()] = true
			}
		})
	}
	assert.Equal(t, sum.Spans, gotSpans, "spans received")
	assert.Equal(t, sum.LogRecords, gotLogs, "log records received")
	for _, e := range simulate.AgentEmitters() {
		assert.True(t, emitters[e], "tool calls in the %s shape: %v", e, emitters)
	}
}

// --agents --high-rate takes --content and --meta as the realistic mode
// does, and refuses --secret-ratio, which rewrites extension spans.
func TestSimulateAgentsHighRateOptions(t *testing.T) {
	cmd := NewCommand()
	cmd.SetArgs([]string{"--agents", "--high-rate", "--secret-ratio", "0.3", "--endpoint", "127.0.0.1:1"})
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	assert.ErrorContains(t, cmd.Execute(), "--secret-ratio")

	count := func(content float64) (captured int) {
		reqs, err := encodeHighRate(agentHighRate(12, 4, 200, content), time.Now())
		require.NoError(t, err)
		for _, r := range reqs {
			captured += bytes.Count(r.body, []byte("gen_ai.tool.call.arguments")) + bytes.Count(r.body, []byte("tool_input")) +
				bytes.Count(r.body, []byte("traceloop.entity.input")) + bytes.Count(r.body, []byte("function_args"))
		}
		return captured
	}
	assert.Zero(t, count(0), "no content captured with --content 0")
	assert.Positive(t, count(1))
}

// agentHighRate are the options `--agents --high-rate --seed 7
// --cycle-calls 600` gives, with
// these agents, batches, records per batch and content fraction.
func agentHighRate(agents, batches, records int, content float64) Options {
	return Options{Agents: true, HighRate: true, Seed: 7, Extensions: agents, Batches: batches, BatchSpans: records,
		AgentEmitters: simulate.AgentEmitters(), Content: content, Meta: 0.5, CycleCalls: 600}
}
