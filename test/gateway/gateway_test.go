package gateway

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/sandwatch/sandwatch/cmd/sandwatchctl/simulatecmd"
	"github.com/sandwatch/sandwatch/internal/archive"
	"github.com/sandwatch/sandwatch/internal/otlpsend"
	"github.com/sandwatch/sandwatch/internal/simulate"
	"github.com/sandwatch/sandwatch/test/testutil"
)

// The simulated fleet: `sandwatchctl simulate --seed 1 --extensions 40`
// and simulate.New(fleet) are the same 40 extensions.
var fleet = simulate.Options{Seed: 1, Extensions: 40}

// The scenarios that are anomalies (secrets is the scrubber's).
// everyAttack is what `simulate --scenario all` injects: every scenario
// that raises an anomaly.
func everyAttack() []string {
	var out []string
	for _, sc := range simulate.Scenarios() {
		if simulate.AnomalyType(sc) != "" {
			out = append(out, sc)
		}
	}
	return out
}

// attacks are injected by hand on the extensions that moved (one trace
// each).
var attacks = []string{"capability-denied", "exfiltration", "new-destination", "recon", "runaway", "volume-spike"}

// TestGatewayFileStore: three replicas sharing a file:// store.
func TestGatewayFileStore(t *testing.T) {
	runGateway(t, "file://"+t.TempDir(), nil)
}

// TestGatewayS3: three replicas sharing a bucket on a real S3 server.
func TestGatewayS3(t *testing.T) {
	s3 := testutil.StartS3(t, "shared")
	runGateway(t, s3.StoreURL(), s3)
}

func runGateway(t *testing.T, store string, s3 *testutil.S3Server) {
	c := newCluster(t, store, s3, 3)
	g := simulate.New(fleet)
	attackTraces := map[string]bool{}

	// 1. Learn, then every attack scenario, through tier 1.
	truth := filepath.Join(t.TempDir(), "truth.jsonl")
	runSimulate(t, c.tier1Endpoint(), "--seed", "1", "--extensions", "40", "--learn", "100", "--duration", "6s", "--rate", "40",
		"--scenario", "all", "--attack-after", "1s", "--truth", truth)
	var injected []simulatecmd.TruthRecord
	for _, in := range readTruth(t, truth) {
		if in.Anomaly != "" {
			injected = append(injected, in)
		}
	}
	require.Len(t, injected, len(everyAttack()), "one attack per scenario")
	for _, in := range injected {
		attackTraces[in.TraceID] = true
		for _, id := range in.Related { // exfiltration-split's earlier read
			attackTraces[id] = true
		}
	}
	waitDetected(t, c.sink, injected, nil)

	// Affinity: every extension's spans reached exactly one replica, and
	// every replica owns some.
	own := single(t, owners(c.spansByReplica(), nil))
	require.Len(t, own, fleet.Extensions, "spans of every extension arrived")
	// Audit log records route by the same key: each extension's records
	// reached the replica that has its spans.
	logOwners := single(t, owners(c.logsByReplica(), nil))
	require.NotEmpty(t, logOwners, "no audit log records arrived")
	for ext, r := range logOwners {
		require.Equal(t, own[ext], r, "log records of %s reached %s, its spans %s", ext, r, own[ext])
	}
	t.Logf("audit log records of %d extensions each reached the replica of their spans", len(logOwners))
	perReplica := map[string][]string{}
	for ext, r := range own {
		perReplica[r] = append(perReplica[r], ext)
	}
	for _, r := range c.replicas {
		require.NotEmpty(t, perReplica[r.name], "replica %s owns no extension: %v", r.name, perReplica)
	}
	t.Logf("extensions per replica: r0 %d, r1 %d, r2 %d", len(perReplica["r0"]), len(perReplica["r1"]), len(perReplica["r2"]))

	// 2. One trace, three extensions with three owners: each extension's
	// spans go to its owner (tier 1 regroups per extension before routing).
	var three []int
	taken := map[string]bool{}
	for i, e := range g.Extensions() {
		if e.Style == simulate.StyleGoose && !taken[own[e.ID]] && len(three) < 3 {
			taken[own[e.ID]] = true
			three = append(three, i)
		}
	}
	require.GreaterOrEqual(t, len(three), 2, "goose extensions on two replicas at least")
	multi, multiIDs := multiExtensionTrace(t, g, three)
	attackTraces[multi] = true
	send(t, c.tier1Endpoint(), multiIDs.td, plog.NewLogs())
	testutil.Eventually(t, 20*time.Second, func() bool {
		by := c.spansByReplica()
		for _, ext := range multiIDs.exts {
			if by[own[ext]][seen{ext, multi}] == 0 {
				return false
			}
		}
		return true
	}, "spans of the multi-extension trace did not reach their owners")
	for rep, m := range c.spansByReplica() {
		for s := range m {
			if s.trace == multi {
				require.Equal(t, own[s.ext], rep, "span of %s in the multi-extension trace reached %s", s.ext, rep)
			}
		}
	}
	t.Logf("a trace with spans of %d extensions: each extension's spans reached its own replica", len(three))
	ignore := map[string]bool{multi: true}

	// 3. SIGKILL one replica under load. Tier 1 retries its batches; then
	// tier 1 gets the survivor list (what the dns/k8s resolver does by
	// itself) and the dead replica's extensions move.
	victim := c.replicas[1]
	moved := perReplica[victim.name]
	survivors := []*replica{c.replicas[0], c.replicas[2]}
	stop := make(chan struct{})
	acked := testutil.Load(t, c.tier1Endpoint(), stop, fleet)
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
	}()
	time.Sleep(2 * time.Second)
	victim.c.Kill()
	killed := time.Now()
	t.Logf("killed %s (owner of %d extensions)", victim.name, len(moved))
	time.Sleep(time.Second)
	c.tier1.Stop()
	c.startTier1(survivors)
	ring := time.Now()
	after := inject(t, g, c.tier1Endpoint(), moved)
	for _, in := range after {
		attackTraces[in.TraceID] = true
	}
	got := waitDetected(t, c.sink, after, func(a anomaly) string {
		if a.Source == victim.name {
			return "reported by the dead replica"
		}
		if a.Learning != "detecting" {
			return "the moved extension restarted learning"
		}
		return ""
	})
	first := slices.MinFunc(got, func(a, b anomaly) int { return a.At.Compare(b.At) })
	t.Logf("hand-off: the first attack on a moved extension was reported %.2fs after the SIGKILL, %.2fs after tier 1 had the new ring",
		first.At.Sub(killed).Seconds(), first.At.Sub(ring).Seconds())
	by := owners(c.spansByReplica(), ignore)
	for _, ext := range moved {
		require.True(t, by[ext]["r0"] || by[ext]["r2"], "%s did not move to a survivor", ext)
	}
	loaded := 0.0
	for _, r := range survivors {
		loaded += scrape(r.telemetry, "sandwatch_baseline_shared_loads", `outcome="loaded"`)
		require.Zero(t, scrape(r.telemetry, "sandwatch_baseline_shared_loads", `outcome="timeout"`), "a profile load timed out on %s", r.name)
	}
	require.GreaterOrEqual(t, loaded, float64(len(moved)), "survivors loaded the moved profiles from the store")
	var sum, n float64
	for _, r := range survivors {
		sum += scrape(r.telemetry, "sandwatch_baseline_shared_load_duration_sum")
		n += scrape(r.telemetry, "sandwatch_baseline_shared_load_duration_count")
	}
	t.Logf("survivors: %.0f profiles loaded from the store, %.0f loads in all, %.1f ms per load on average", loaded, n, 1000*sum/max(n, 1))

	// 4. The replica comes back: its extensions return to it and carry on
	// from the profiles the survivors saved.
	c.startReplica(victim)
	c.tier1.Stop()
	c.startTier1(c.replicas)
	returned := time.Now()
	back := inject(t, g, c.tier1Endpoint(), moved)
	for _, in := range back {
		attackTraces[in.TraceID] = true
	}
	waitDetected(t, c.sink, back, func(a anomaly) string {
		if a.Source != victim.name {
			return "not reported by the returning owner " + victim.name
		}
		if a.Learning != "detecting" {
			return "the returning extension restarted learning"
		}
		return ""
	})
	time.Sleep(2 * time.Second)
	close(stop)
	b, _, err := archive.Open(context.Background(), store, archive.S3Options{})
	require.NoError(t, err)
	defer b.Close()
	testutil.WaitAllArchived(t, acked, &archive.Reader{Bucket: b}, 60*time.Second)
	if s3 == nil { // last: it leaves copies of profiles on the wrong replica
		naive := naiveTier1(t, c, g, three)
		attackTraces[naive], ignore[naive] = true, true
	}

	// No false positives anywhere: no anomaly on a benign trace (a moved
	// extension that re-learned would raise new_* on its habits).
	time.Sleep(1500 * time.Millisecond) // idle_timeout: the last invocations are judged
	var benign []anomaly
	for _, a := range c.sink.All() {
		if !attackTraces[a.Trace] {
			benign = append(benign, a)
		}
	}
	require.Empty(t, benign, "anomalies on benign traces")
	// Every extension's anomalies came from one replica at a time.
	for ext, reps := range anomalyReplicas(c.sink.All(), ignore, killed, returned) {
		require.Len(t, reps, 1, "anomalies of %s from several replicas: %v", ext, reps)
	}
}

func readTruth(t *testing.T, path string) []simulatecmd.TruthRecord {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []simulatecmd.TruthRecord
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r simulatecmd.TruthRecord
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r))
		out = append(out, r)
	}
	return out
}

// waitDetected waits until every injected attack is reported with its
// type on its trace, then checks it was reported exactly once (repeats
// aside) and that bad(record) is "" for each; it returns the records.
func waitDetected(t *testing.T, s *testutil.AnomalySink, injected []simulatecmd.TruthRecord, bad func(anomaly) string) []anomaly {
	t.Helper()
	match := func(in simulatecmd.TruthRecord) []anomaly {
		var out []anomaly
		for _, a := range s.All() {
			if a.Type == in.Anomaly && a.Trace == in.TraceID && a.Ext == in.ExtensionID && !a.Repeat {
				out = append(out, a)
			}
		}
		return out
	}
	testutil.Eventually(t, 20*time.Second, func() bool {
		for _, in := range injected {
			if len(match(in)) == 0 {
				return false
			}
		}
		return true
	}, "not every attack was reported: injected %v, got %v", injected, s.All())
	time.Sleep(500 * time.Millisecond) // a second report would come now
	var all []anomaly
	for _, in := range injected {
		m := match(in)
		require.Len(t, m, 1, "%s on %s reported %d times: %v", in.Scenario, in.ExtensionID, len(m), m)
		if bad != nil {
			require.Empty(t, bad(m[0]), "%s on %s: %+v", in.Scenario, in.ExtensionID, m[0])
		}
		all = append(all, m...)
	}
	return all
}

// single turns ext -> replicas into ext -> replica, failing if any
// extension reached several.
func single(t *testing.T, by map[string]map[string]bool) map[string]string {
	out := map[string]string{}
	for ext, reps := range by {
		require.Len(t, reps, 1, "spans of %s reached several replicas: %v", ext, reps)
		for r := range reps {
			out[ext] = r
		}
	}
	return out
}

// anomalyReplicas maps each extension to the replicas that reported it,
// per period (before the kill, while it was down, after it came back):
// within a period the owner is one replica.
func anomalyReplicas(all []anomaly, ignore map[string]bool, killed, returned time.Time) map[string][]string {
	sets := map[string]map[string]bool{}
	for _, a := range all {
		if ignore[a.Trace] {
			continue
		}
		period := "before"
		switch {
		case a.At.After(returned):
			period = "returned"
		case a.At.After(killed):
			period = "moved"
		}
		k := a.Ext + " " + period
		if sets[k] == nil {
			sets[k] = map[string]bool{}
		}
		sets[k][a.Source] = true
	}
	out := map[string][]string{}
	for k, reps := range sets {
		for r := range reps {
			out[k] = append(out[k], r)
		}
		sort.Strings(out[k])
	}
	return out
}

func send(t *testing.T, endpoint string, td ptrace.Traces, ld plog.Logs) {
	t.Helper()
	snd, err := otlpsend.New("grpc", endpoint)
	require.NoError(t, err)
	defer snd.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if td.SpanCount() > 0 {
		body, _ := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
		_, err = snd.Send(ctx, otlpsend.Traces, body)
		require.NoError(t, err)
	}
	if ld.LogRecordCount() > 0 {
		body, _ := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
		_, err = snd.Send(ctx, otlpsend.Logs, body)
		require.NoError(t, err)
	}
}

// inject sends one attack of every scenario, each on a moved extension,
// with a fresh trace ID, and returns the ground truth.
func inject(t *testing.T, g *simulate.Generator, endpoint string, moved []string) []simulatecmd.TruthRecord {
	t.Helper()
	idx := map[string]int{}
	for i, e := range g.Extensions() {
		idx[e.ID] = i
	}
	sort.Strings(moved)
	var out []simulatecmd.TruthRecord
	for n, sc := range attacks {
		ext := moved[n%len(moved)]
		td, ld, inj, err := g.Inject(sc, idx[ext], time.Now())
		require.NoError(t, err)
		id := testutil.FreshTraceID(td, ld)
		send(t, endpoint, td, ld)
		out = append(out, simulatecmd.TruthRecord{Scenario: sc, Anomaly: inj.Anomaly, ExtensionID: ext, TraceID: hex.EncodeToString(id[:])})
	}
	return out
}

type multiTrace struct {
	td   ptrace.Traces
	exts []string
}

// multiExtensionTrace is one agent run that calls the given Goose-style
// extensions: their invocations (each a new-destination attack) in one
// trace, under one resource and one scope, as a host wrapper sends them.
func multiExtensionTrace(t *testing.T, g *simulate.Generator, idx []int) (string, multiTrace) {
	out := multiTrace{td: ptrace.NewTraces()}
	rs := out.td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "goose")
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("goose-extension-runner")
	var tid [16]byte
	for n, i := range idx {
		td, _, _, err := g.Inject("new-destination", i, time.Now())
		require.NoError(t, err)
		id := testutil.FreshTraceID(td, plog.NewLogs())
		if n == 0 {
			tid = id
		}
		src := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
		for k := 0; k < src.Len(); k++ {
			sp := ss.Spans().AppendEmpty()
			src.At(k).CopyTo(sp)
			sp.SetTraceID(tid)
		}
		out.exts = append(out.exts, g.Extensions()[i].ID)
	}
	return hex.EncodeToString(tid[:]), out
}

// naiveTier1 is what load_balancing v0.161.0 does without the regrouping
// step: routing_attributes on the raw extension-id keys. The whole
// multi-extension trace goes to one replica, the one its first span's
// key hashes to.
const naiveConfig = `
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:%[1]d
        tls:
          cert_file: %[4]s/server/tls.crt
          key_file: %[4]s/server/tls.key
          client_ca_file: %[4]s/server/ca.crt
extensions:
  health_check:
    endpoint: 127.0.0.1:%[2]d
exporters:
  load_balancing:
    routing_key: attributes
    routing_attributes: [extension.id, sandbox.script.id, plugin.id, container.name, sandbox.extension.id]
    protocol:
      otlp:
        # the sender's own certificate: tier 2 judges it as a direct sender
        tls:
          ca_file: %[4]s/sender/ca.crt
          cert_file: %[4]s/sender/tls.crt
          key_file: %[4]s/sender/tls.key
          server_name_override: sandwatch-tier2
    resolver:
      static:
        hostnames: [%[3]s]
service:
  extensions: [health_check]
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [load_balancing]
`

func naiveTier1(t *testing.T, c *cluster, g *simulate.Generator, three []int) string {
	grpc, health := testutil.FreePort(t), testutil.FreePort(t)
	var eps []string
	for _, r := range c.replicas {
		eps = append(eps, r.endpoint())
	}
	n := testutil.StartCollector(t, fmt.Sprintf(naiveConfig, grpc, health, strings.Join(eps, ", "), c.pki.Dir))
	n.WaitHealthy(fmt.Sprintf("http://127.0.0.1:%d/", health), 60*time.Second)
	defer n.Stop()
	trace, m := multiExtensionTrace(t, g, three)
	send(t, fmt.Sprintf("127.0.0.1:%d", grpc), m.td, plog.NewLogs())
	var reps map[string]bool
	testutil.Eventually(t, 20*time.Second, func() bool {
		reps = map[string]bool{}
		total := 0
		for rep, seenBy := range c.spansByReplica() {
			for s, k := range seenBy {
				if s.trace == trace {
					reps[rep] = true
					total += k
				}
			}
		}
		return total == m.td.SpanCount()
	}, "the naive tier 1 did not deliver the trace")
	require.Len(t, reps, 1, "v0.161.0 without regrouping sends a trace to one replica")
	t.Logf("without regrouping, load_balancing v0.161.0 sent all %d spans of a trace of %d extensions to one replica, %v (keyed on the first span's extension)",
		m.td.SpanCount(), len(m.exts), reps)
	return trace
}
