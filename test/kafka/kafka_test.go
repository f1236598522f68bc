// Package kafka is the end-to-end test of Kafka between agents and a
// gateway: a broker that speaks the Kafka protocol runs in the test
// process (franz-go's kfake; a module of its own, so neither the
// collector nor the root module's tests carry it), an agent
// (config/kafka-agent.yaml) produces what sandbox hosts send, and a
// gateway (config/default.yaml + config/kafka-gateway.yaml) consumes it,
// and is SIGKILLed and restarted mid-stream.
package kafka

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/cmd/sandwatchctl/simulatecmd"
	"github.com/sandwatch/sandwatch/internal/archive"
	"github.com/sandwatch/sandwatch/internal/simulate"
	"github.com/sandwatch/sandwatch/test/testutil"
)

// overlay adds what the test observes to the gateway: anomalies go to the
// sink, and every span the gateway's pipeline receives is also written to
// $SPANS_FILE (one file per run), so duplicates across the restart count.
const overlay = `
connectors:
  baseline:
    idle_timeout: 1s
    metrics_interval: 1s
    save_interval: 1s
exporters:
  otlp_http/anomalies:
    endpoint: %s
    compression: none
    retry_on_failure:
      enabled: false
  file/spans:
    path: ${env:SPANS_FILE}
    flush_interval: 10ms
service:
  pipelines:
    traces:
      exporters: [forensic, sandbox_metrics, baseline, file/spans]
    logs/anomaly:
      exporters: [otlp_http/anomalies]
`

// The simulated fleet: `sandwatchctl simulate --seed 1 --extensions 20`.
var fleet = simulate.Options{Seed: 1, Extensions: 20}

type gateway struct {
	t          *testing.T
	dir, cfg   string
	env        []string
	health     int
	c          *testutil.Collector
	runs       int
	spansFiles []string
}

func (g *gateway) start() {
	g.runs++
	f := filepath.Join(g.dir, fmt.Sprintf("spans-run%d.jsonl", g.runs))
	g.spansFiles = append(g.spansFiles, f)
	root := testutil.RepoRoot(g.t)
	g.c = testutil.StartCollectorConfigs(g.t, g.dir, []string{
		filepath.Join(root, "config", "default.yaml"), filepath.Join(root, "config", "kafka-gateway.yaml"), g.cfg,
	}, append(g.env, "SPANS_FILE="+f)...)
	g.c.WaitHealthy(fmt.Sprintf("http://127.0.0.1:%d/", g.health), 60*time.Second)
}

func TestKafkaBetweenAgentAndGateway(t *testing.T) {
	// One partition per topic: Kafka orders records within a partition only,
	// and the baseline needs an extension's invocations in order (a read
	// before the egress of another trace; learning before judging). The
	// kafka exporter (v0.165.1) keys traces by trace ID or client metadata,
	// never by extension, so more partitions reorder an extension's traces
	// (seen here with 4: an exfiltration across traces missed).
	broker, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "sandwatch_spans", "sandwatch_logs"))
	require.NoError(t, err)
	t.Cleanup(broker.Close)
	brokers := "[" + strings.Join(broker.ListenAddrs(), ",") + "]"
	sink := testutil.NewAnomalySink(t)
	root := testutil.RepoRoot(t)

	// The gateway: the default pipeline (forensic WAL -> archive, metrics,
	// baseline), consuming Kafka.
	gdir := t.TempDir()
	gcfg := filepath.Join(gdir, "observe.yaml")
	require.NoError(t, os.WriteFile(gcfg, []byte(fmt.Sprintf(overlay, sink.URL)), 0o600))
	g := &gateway{t: t, dir: gdir, cfg: gcfg, health: testutil.FreePort(t)}
	g.env = testutil.DefaultEnv(t, gdir, g.health, testutil.FreePort(t), "SANDWATCH_KAFKA_BROKERS="+brokers,
		"SANDWATCH_FORENSIC_STORE=file://"+filepath.Join(gdir, "archive"))
	g.start()

	// The agent: OTLP in, Kafka out.
	adir := t.TempDir()
	agentHealth, agentOTLP := testutil.FreePort(t), testutil.FreePort(t)
	agent := testutil.StartCollectorFile(t, adir, filepath.Join(root, "config", "kafka-agent.yaml"),
		fmt.Sprintf("SANDWATCH_HEALTH_ENDPOINT=127.0.0.1:%d", agentHealth),
		fmt.Sprintf("SANDWATCH_OTLP_GRPC_ENDPOINT=127.0.0.1:%d", agentOTLP),
		fmt.Sprintf("SANDWATCH_OTLP_HTTP_ENDPOINT=127.0.0.1:%d", testutil.FreePort(t)),
		fmt.Sprintf("SANDWATCH_TELEMETRY_PORT=%d", testutil.FreePort(t)),
		"SANDWATCH_KAFKA_BROKERS="+brokers)
	agent.WaitHealthy(fmt.Sprintf("http://127.0.0.1:%d/", agentHealth), 60*time.Second)
	agentEndpoint := fmt.Sprintf("127.0.0.1:%d", agentOTLP)

	// 1. Detection on the consumed stream: the fleet learns, then every
	// attack scenario, through the agent and Kafka.
	injected := simulateAttacks(t, agentEndpoint, "--learn", "100")
	waitDetected(t, sink, injected)
	t.Logf("all %d attacks detected on the consumed stream, each once", len(injected))

	// 2. Load through the agent; the gateway is SIGKILLed mid-stream and
	// restarted 2s later on the same data directory and consumer group.
	stop := make(chan struct{})
	acked := testutil.Load(t, agentEndpoint, stop, fleet)
	time.Sleep(3 * time.Second)
	g.c.Kill()
	t.Log("gateway SIGKILLed mid-stream")
	time.Sleep(2 * time.Second)
	g.start()
	t.Log("gateway restarted")
	time.Sleep(3 * time.Second)
	close(stop)
	traces, spans := acked.Count()
	t.Logf("the agent acknowledged %d traces, %d spans of the load (refused %d)", traces, spans, acked.Refusals())

	// No acknowledged span is lost: every one is in the archive.
	bucket, _, err := archive.Open(context.Background(), "file://"+filepath.Join(gdir, "archive"), archive.S3Options{})
	require.NoError(t, err)
	defer bucket.Close()
	testutil.WaitAllArchived(t, acked, &archive.Reader{Bucket: bucket}, 90*time.Second)

	// 3. Detection holds after the restart: profiles came back from
	// file_storage (saved every second here), nothing re-learns.
	after := simulateAttacks(t, agentEndpoint, "--learn", "0")
	waitDetected(t, sink, after)
	for _, a := range sink.All() {
		require.Equal(t, "detecting", a.Learning, "an anomaly from a profile that restarted learning: %+v", a)
	}
	attackTraces := map[string]bool{}
	for _, in := range append(injected, after...) {
		attackTraces[in.TraceID] = true
		for _, id := range in.Related {
			attackTraces[id] = true
		}
	}
	var benign []testutil.Anomaly
	for _, a := range sink.All() {
		if !attackTraces[a.Trace] {
			benign = append(benign, a)
		}
	}
	require.Empty(t, benign, "anomalies on benign traces (redelivered spans judged twice would show here)")
	t.Logf("after the restart: %d more attacks detected, each once; no anomaly on a benign trace", len(after))

	// Duplicates: spans the gateway's pipeline received in both runs (run
	// 1 processed them, was killed before its offset commit, and run 2 got
	// them again) and within one run.
	g.c.Stop()
	d := countDuplicates(t, g.spansFiles)
	t.Logf("gateway received %d spans in run 1 and %d in run 2; %d distinct; %d received by both runs (redelivered after the kill), %d twice within a run",
		d.perRun[0], d.perRun[1], d.distinct, d.across, d.within)
	require.GreaterOrEqual(t, d.distinct, spans, "fewer distinct spans reached the gateway than the agent acknowledged")
	require.Zero(t, d.within, "a run received a span twice: only a restart should redeliver")
}

// simulateAttacks runs `sandwatchctl simulate` on the fleet through the
// agent, every attack scenario after 1s, and returns the injected attacks.
func simulateAttacks(t *testing.T, endpoint string, learn ...string) []simulatecmd.TruthRecord {
	t.Helper()
	truth := filepath.Join(t.TempDir(), "truth.jsonl")
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	args := append([]string{"simulate", "--endpoint", endpoint, "--seed", "1", "--extensions", "20"}, learn...)
	out, err := testutil.RunCtl(t, ctx, append(args, "--duration", "5s", "--rate", "40", "--scenario", "all", "--attack-after", "1s", "--truth", truth)...)
	require.NoError(t, err, out)
	f, err := os.Open(truth)
	require.NoError(t, err)
	defer f.Close()
	var injected []simulatecmd.TruthRecord
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r simulatecmd.TruthRecord
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r))
		if r.Anomaly != "" {
			injected = append(injected, r)
		}
	}
	require.NotEmpty(t, injected, "simulate injected no attack")
	return injected
}

// waitDetected waits until every attack is reported with its type on its
// trace and extension, then checks each was reported once (repeats aside).
func waitDetected(t *testing.T, s *testutil.AnomalySink, injected []simulatecmd.TruthRecord) []string {
	t.Helper()
	match := func(in simulatecmd.TruthRecord) int {
		n := 0
		for _, a := range s.All() {
			if a.Type == in.Anomaly && a.Trace == in.TraceID && a.Ext == in.ExtensionID && !a.Repeat {
				n++
			}
		}
		return n
	}
	testutil.Eventually(t, 30*time.Second, func() bool {
		for _, in := range injected {
			if match(in) == 0 {
				return false
			}
		}
		return true
	}, "not every attack was reported: injected %v, got %v", injected, s.All())
	time.Sleep(time.Second) // a second report would come now
	var names []string
	for _, in := range injected {
		require.Equal(t, 1, match(in), "%s on %s reported %d times", in.Scenario, in.ExtensionID, match(in))
		names = append(names, in.Anomaly)
	}
	return names
}

type duplicates struct {
	perRun         []int
	distinct       int
	across, within int
}

// countDuplicates reads the span IDs each gateway run wrote.
func countDuplicates(t *testing.T, files []string) duplicates {
	t.Helper()
	d := duplicates{}
	seen := map[string]int{} // span ID -> the run that first had it
	for run, f := range files {
		n := 0
		inRun := map[string]bool{}
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		var u ptrace.JSONUnmarshaler
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			if line == "" {
				continue
			}
			td, err := u.UnmarshalTraces([]byte(line))
			if err != nil {
				// Only a killed run's last line may be cut.
				if run == len(files)-1 {
					t.Fatalf("run %d stopped gracefully, yet wrote a line that does not parse: %v", run+1, err)
				}
				continue
			}
			for i := 0; i < td.ResourceSpans().Len(); i++ {
				ss := td.ResourceSpans().At(i).ScopeSpans()
				for j := 0; j < ss.Len(); j++ {
					sp := ss.At(j).Spans()
					for k := 0; k < sp.Len(); k++ {
						id := archive.TraceHex(sp.At(k).TraceID()) + sp.At(k).SpanID().String()
						n++
						if inRun[id] {
							d.within++
						}
						inRun[id] = true
						if first, ok := seen[id]; ok && first != run {
							d.across++
						} else if !ok {
							seen[id] = run
						}
					}
				}
			}
		}
		d.perRun = append(d.perRun, n)
	}
	d.distinct = len(seen)
	return d
}
