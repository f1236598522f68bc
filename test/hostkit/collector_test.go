// Package hostkit is the end-to-end test of the host instrumentation kits
// (sdk/js, sdk/go/wazerohost): a real host, a real sandbox (an
// isolated-vm isolate; a wazero-run wasm guest), the real bin/sandwatch on
// config/default.yaml, and assertions on what the collector made of the
// kits' spans: the archive, the metrics, the anomalies.
package hostkit

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/sandboxevent"
	"github.com/sandwatch/sandwatch/test/testutil"
)

// collector is bin/sandwatch on config/default.yaml with every listener on
// a free loopback port and its data under a temp dir.
type collector struct {
	*testutil.Collector
	otlpHTTP, prom, store string
}

func startDefault(t *testing.T) *collector {
	t.Helper()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	require.NoError(t, os.MkdirAll(data, 0o755))
	health := testutil.FreePort(t)
	c := &collector{
		otlpHTTP: fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t)),
		prom:     fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t)),
		store:    "file://" + filepath.Join(data, "forensic"),
	}
	c.Collector = testutil.StartCollectorFile(t, dir, filepath.Join(testutil.RepoRoot(t), "config", "default.yaml"),
		fmt.Sprintf("SANDWATCH_HEALTH_ENDPOINT=127.0.0.1:%d", health),
		fmt.Sprintf("SANDWATCH_OTLP_GRPC_ENDPOINT=127.0.0.1:%d", testutil.FreePort(t)),
		"SANDWATCH_OTLP_HTTP_ENDPOINT="+c.otlpHTTP,
		fmt.Sprintf("SANDWATCH_TELEMETRY_PORT=%d", testutil.FreePort(t)),
		"SANDWATCH_PROMETHEUS_ENDPOINT="+c.prom,
		fmt.Sprintf("SANDWATCH_QUERY_ENDPOINT=127.0.0.1:%d", testutil.FreePort(t)),
		"SANDWATCH_OTLP_SOCKET="+filepath.Join(dir, "otlp.sock"),
		"SANDWATCH_DATA_DIR="+data,
		"SANDWATCH_FORENSIC_STORE="+c.store)
	c.WaitHealthy(fmt.Sprintf("http://127.0.0.1:%d/", health), 90*time.Second)
	return c
}

func (c *collector) ctl(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := testutil.RunCtl(t, ctx, append([]string{"forensics"}, append(args, "--store", c.store)...)...)
	require.NoError(t, err, out)
	return out
}

type listed struct {
	TraceID    string   `json:"trace_id"`
	Spans      int      `json:"spans"`
	Extensions []string `json:"extensions"`
}

// archivedTraces lists the archive's traces of one extension
// (sandwatchctl forensics list --json --extension).
func (c *collector) archivedTraces(t *testing.T, ext string) []listed {
	t.Helper()
	var out []listed
	for _, line := range strings.Split(strings.TrimSpace(c.ctl(t, "list", "--json", "--extension", ext)), "\n") {
		if line == "" {
			continue
		}
		var l listed
		require.NoError(t, json.Unmarshal([]byte(line), &l), line)
		out = append(out, l)
	}
	return out
}

// waitArchived waits until the archive lists traceID with n spans, then
// returns the trace (sandwatchctl forensics get).
func (c *collector) waitArchived(t *testing.T, ext, traceID string, n int) ptrace.Traces {
	t.Helper()
	testutil.Eventually(t, 45*time.Second, func() bool {
		for _, l := range c.archivedTraces(t, ext) {
			if l.TraceID == traceID && l.Spans >= n {
				return true
			}
		}
		return false
	}, "trace %s of %s with %d spans in the archive", traceID, ext, n)
	out := c.ctl(t, "get", traceID)
	td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces([]byte(strings.SplitN(out, "\n", 2)[0]))
	require.NoError(t, err, out)
	return td
}

// classified is one archived span with its event-model classification.
type classified struct {
	span ptrace.Span
	ev   sandboxevent.Event
}

// classify runs the event model over every span with only the given
// built-in profiles: what a kit emits must be readable by the profile
// written for its kind of host, with no help from the others.
func classify(td ptrace.Traces, profiles ...string) []classified {
	cl := sandboxevent.MustNew(sandboxevent.Config{Profiles: profiles})
	var out []classified
	cl.EachSpan(td, func(span ptrace.Span, ev *sandboxevent.Event, _ ptrace.ResourceSpans, _ ptrace.ScopeSpans) {
		e := *ev
		// The event's strings point into td; td outlives out here.
		out = append(out, classified{span: span, ev: e})
	})
	return out
}

func (c *collector) metric(t *testing.T, name string, labels ...string) float64 {
	v, err := testutil.ScrapeSum("http://"+c.prom+"/metrics", name, labels...)
	if err != nil {
		t.Logf("scrape: %v", err)
	}
	return v
}

// waitMetrics waits until every series in want has its value (the
// sandbox_metrics connector flushes every 15 s on the default config).
func (c *collector) waitMetrics(t *testing.T, want map[string]float64) {
	t.Helper()
	got := map[string]float64{}
	deadline := time.Now().Add(60 * time.Second)
	for {
		same := true
		for series, v := range want {
			name, labels := splitSeries(series)
			got[series] = c.metric(t, name, labels...)
			same = same && got[series] == v
		}
		if same {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics after 60s:\n got %v\nwant %v", got, want)
		}
		time.Sleep(time.Second)
	}
}

// splitSeries splits `name{a="x",b="y"}` into the name and label fragments.
func splitSeries(s string) (string, []string) {
	i := strings.IndexByte(s, '{')
	if i < 0 {
		return s, nil
	}
	return s[:i], strings.Split(strings.TrimSuffix(s[i+1:], "}"), ",")
}
