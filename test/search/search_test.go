// Package search is the end-to-end test of Tempo search over the
// forensic archive: the real bin/sandwatch on config/default.yaml receives
// `sandwatchctl simulate` traffic with an injected exfiltration, and every
// search endpoint's answer is checked against a brute-force scan of the
// same archive (testutil.BruteForce), then Grafana's whole sequence is
// replayed: echo, buildinfo, tags, tag values, search, open the trace.
package search

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/sandwatch/sandwatch/internal/archive"
	"github.com/sandwatch/sandwatch/internal/traceql"
	"github.com/sandwatch/sandwatch/test/testutil"
)

// deployment is the collector on config/default.yaml over one store.
type deployment struct {
	*testutil.Collector
	store string
	otlp  string // OTLP/gRPC endpoint
	query string // forensic_query base URL
}

// startDefault starts the collector on config/default.yaml, with the
// extra configs (files or yaml: URIs) merged over it.
func startDefault(t *testing.T, store string, extra ...string) *deployment {
	t.Helper()
	dir := t.TempDir()
	health, telemetry := testutil.FreePort(t), testutil.FreePort(t)
	d := &deployment{store: store,
		otlp:  fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t)),
		query: fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t))}
	env := testutil.DefaultEnv(t, dir, health, telemetry,
		"SANDWATCH_OTLP_GRPC_ENDPOINT="+d.otlp,
		"SANDWATCH_QUERY_ENDPOINT="+d.query,
		"SANDWATCH_FORENSIC_STORE="+store,
		"SANDWATCH_AUDIT_LOG_GLOB="+filepath.Join(dir, "audit", "*.jsonl"))
	configs := append([]string{filepath.Join(testutil.RepoRoot(t), "config", "default.yaml")}, extra...)
	d.Collector = testutil.StartCollectorConfigs(t, dir, configs, env...)
	d.WaitHealthy(fmt.Sprintf("http://127.0.0.1:%d/", health), 90*time.Second)
	d.query = "http://" + d.query
	return d
}

type truth struct {
	Anomaly     string `json:"anomaly"`
	ExtensionID string `json:"extension_id"`
	TraceID     string `json:"trace_id"`
}

// simulate sends a learning period, then benign traffic with
// exfiltrations injected, and returns the ground truth.
func (d *deployment) simulate(t *testing.T, args ...string) []truth {
	t.Helper()
	if len(args) == 0 {
		args = []string{"--extensions", "10", "--learn", "100",
			"--duration", "5s", "--rate", "30", "--scenario", "exfiltration", "--attack-after", "1s"}
	}
	truthFile := filepath.Join(t.TempDir(), "truth.jsonl")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := testutil.RunCtl(t, ctx, append([]string{"simulate", "--endpoint", d.otlp, "--truth", truthFile}, args...)...)
	require.NoError(t, err, out)
	f, err := os.Open(truthFile)
	require.NoError(t, err)
	defer f.Close()
	var got []truth
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var tr truth
		require.NoError(t, json.Unmarshal(sc.Bytes(), &tr))
		got = append(got, tr)
	}
	require.NotEmpty(t, got, "simulate injected no exfiltration")
	return got
}

func (d *deployment) reader(t *testing.T) *archive.Reader {
	b, local, err := archive.Open(context.Background(), d.store, archive.S3Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	return &archive.Reader{Bucket: b, LocalDir: local}
}

// settle waits until every injected attack is in the anomaly index under
// its type and the archive has stopped growing (the exporter's queue
// flushed).
func (d *deployment) settle(t *testing.T, r *archive.Reader, injected []truth) {
	t.Helper()
	want := map[string]bool{}
	for _, tr := range injected {
		want[tr.TraceID+"/"+tr.Anomaly] = true
	}
	testutil.Eventually(t, 90*time.Second, func() bool {
		seen := map[string]bool{}
		_ = r.Anomalies(context.Background(), archive.Window{}, func(a archive.AnomalyEntry) error {
			if want[a.TraceID+"/"+a.Type] {
				seen[a.TraceID+"/"+a.Type] = true
			}
			return nil
		})
		return len(seen) == len(want)
	}, "the injected attacks in the anomaly index")
	last, stable := -1, 0
	testutil.Eventually(t, 60*time.Second, func() bool {
		st, err := r.Stats(context.Background(), archive.Window{})
		if err != nil {
			return false
		}
		if st.Spans+st.Logs == last {
			stable++
		} else {
			last, stable = st.Spans+st.Logs, 0
		}
		time.Sleep(time.Second)
		return stable >= 4
	}, "the archive to stop growing")
}

// getJSON GETs path with params and returns status, body and headers.
func (d *deployment) get(t *testing.T, path string, params url.Values, accept string) (int, []byte, http.Header) {
	t.Helper()
	u := d.query + path
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	require.NoError(t, err)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, body, resp.Header
}

// strict decodes as Grafana's jsonpb does: unknown fields fail.
func strict(t *testing.T, body []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(v), "strict decode of %s", body)
}

// u64 is a 64-bit proto JSON field: a decimal string.
type u64 uint64

func (u *u64) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("64-bit field must be a JSON string, got %s", b)
	}
	v, err := strconv.ParseUint(s, 10, 64)
	*u = u64(v)
	return err
}

// Tempo's messages (pkg/tempopb/tempo.proto), the fields Grafana reads.
type (
	searchResponse struct {
		Traces  []traceMeta `json:"traces"`
		Metrics struct {
			InspectedTraces uint32 `json:"inspectedTraces"`
			InspectedBytes  u64    `json:"inspectedBytes"`
			TotalBlocks     uint32 `json:"totalBlocks"`
			CompletedJobs   uint32 `json:"completedJobs"`
			TotalJobs       uint32 `json:"totalJobs"`
			TotalBlockBytes u64    `json:"totalBlockBytes"`
		} `json:"metrics"`
	}
	traceMeta struct {
		TraceID           string    `json:"traceID"`
		RootServiceName   string    `json:"rootServiceName"`
		RootTraceName     string    `json:"rootTraceName"`
		StartTimeUnixNano u64       `json:"startTimeUnixNano"`
		DurationMs        uint32    `json:"durationMs"`
		SpanSet           *spanSet  `json:"spanSet"`
		SpanSets          []spanSet `json:"spanSets"`
	}
	spanSet struct {
		Spans []struct {
			SpanID            string `json:"spanID"`
			Name              string `json:"name"`
			StartTimeUnixNano u64    `json:"startTimeUnixNano"`
			DurationNanos     u64    `json:"durationNanos"`
			Attributes        []struct {
				Key   string `json:"key"`
				Value struct {
					StringValue *string  `json:"stringValue"`
					IntValue    *string  `json:"intValue"`
					BoolValue   *bool    `json:"boolValue"`
					DoubleValue *float64 `json:"doubleValue"`
					ArrayValue  *struct {
						Values []json.RawMessage `json:"values"`
					} `json:"arrayValue"`
				} `json:"value"`
			} `json:"attributes"`
		} `json:"spans"`
		Matched uint32 `json:"matched"`
	}
	tagsResponse struct {
		Scopes []struct {
			Name string   `json:"name"`
			Tags []string `json:"tags"`
		} `json:"scopes"`
		Metrics struct {
			InspectedBytes u64 `json:"inspectedBytes"`
		} `json:"metrics"`
	}
	tagValuesResponse struct {
		TagValues []struct {
			Type  string `json:"type"`
			Value string `json:"value"`
		} `json:"tagValues"`
		Metrics struct {
			InspectedBytes u64 `json:"inspectedBytes"`
		} `json:"metrics"`
	}
)

// window is the search range used by API and brute force alike (whole
// seconds, as Grafana sends them).
type window struct{ start, end time.Time }

func (w window) params(kv ...string) url.Values {
	v := url.Values{"start": {fmt.Sprint(w.start.Unix())}, "end": {fmt.Sprint(w.end.Unix())}}
	for i := 0; i < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

func TestSearchFileStore(t *testing.T) {
	runSuite(t, "file://"+filepath.Join(t.TempDir(), "forensic"))
}

func TestSearchS3(t *testing.T) {
	s3 := testutil.StartS3(t, "search")
	runSuite(t, s3.StoreURL())
}

func runSuite(t *testing.T, store string) {
	began := time.Now().Add(-time.Minute).Truncate(time.Second)
	d := startDefault(t, store)
	injected := d.simulate(t)
	r := d.reader(t)
	d.settle(t, r, injected)
	w := window{start: began, end: time.Now().Add(time.Minute).Truncate(time.Second)}
	brute, err := testutil.LoadBruteForce(context.Background(), r)
	require.NoError(t, err)
	t.Logf("archive: %d traces, %d injected exfiltrations", brute.Len(), len(injected))
	ext := injected[0].ExtensionID

	t.Run("answers match a brute-force scan", func(t *testing.T) {
		for _, q := range []string{
			`{}`,
			fmt.Sprintf(`{ span.sandwatch.extension = %q }`, ext),
			`{ span.sandwatch.anomaly = "exfiltration" }`,
			fmt.Sprintf(`{ span.sandwatch.extension = %q } && { span.sandwatch.anomaly = "exfiltration" }`, ext),
			fmt.Sprintf(`{span.sandwatch.extension=%q && span.sandwatch.anomaly="exfiltration"}`, ext),
			`{ status = error }`,
			`{ resource.service.name = "goose" && kind = client }`,
			`{ span.http.method = "POST" }`,
			`{ .http.method = "GET" && .http.status_code = 200 }`,
			`{ name = "HTTPRequestBlock" || name = "FileReadBlock" }`,
			`{ .http.url =~ "https://.*" } && { resource.service.name != "goose" }`,
			`{ .http.response.status_code >= 400 || .http.status_code >= 400 }`,
			`{ kind = server } >> { name =~ ".*Request.*" }`,
			`{ duration > 5ms } with (most_recent=true)`,
			`{ traceDuration > 1ms && rootServiceName != "nope" }`,
		} {
			query, err := traceql.Parse(q)
			require.NoError(t, err, q)
			want := brute.Search(query, w.start, w.end, 50)
			code, body, _ := d.get(t, "/api/search", w.params("q", q, "limit", "50", "spss", "3"), "application/json")
			require.Equal(t, http.StatusOK, code, "%s: %s", q, body)
			var sr searchResponse
			strict(t, body, &sr)
			require.Len(t, sr.Traces, len(want), q)
			for i, tr := range sr.Traces {
				assert.Equal(t, want[i].TraceID, tr.TraceID, "%s #%d", q, i)
				assert.Equal(t, want[i].Start, uint64(tr.StartTimeUnixNano), "%s #%d", q, i)
				require.Len(t, tr.SpanSets, 1)
				assert.Equal(t, uint32(want[i].Matched), tr.SpanSets[0].Matched, "%s #%d", q, i)
			}
			t.Logf("%-100s %2d traces, %d inspected", q, len(want), sr.Metrics.InspectedTraces)
		}
	})

	t.Run("the anomaly search finds every injected exfiltration", func(t *testing.T) {
		code, body, _ := d.get(t, "/api/search", w.params("q", `{ span.sandwatch.anomaly = "exfiltration" }`, "limit", "1000"), "")
		require.Equal(t, http.StatusOK, code)
		var sr searchResponse
		strict(t, body, &sr)
		found := map[string]bool{}
		for _, tr := range sr.Traces {
			found[tr.TraceID] = true
		}
		for _, in := range injected {
			assert.True(t, found[in.TraceID], "injected exfiltration %s of %s not found", in.TraceID, in.ExtensionID)
		}
	})

	t.Run("tag values match a brute-force scan", func(t *testing.T) {
		for _, tag := range []string{"span.sandwatch.extension", "resource.service.name", "span.sandwatch.anomaly"} {
			code, body, _ := d.get(t, "/api/v2/search/tag/"+tag+"/values", w.params("limit", "5000"), "")
			require.Equal(t, http.StatusOK, code, "%s: %s", tag, body)
			var tv tagValuesResponse
			strict(t, body, &tv)
			got := map[string]bool{}
			for _, v := range tv.TagValues {
				assert.Equal(t, "string", v.Type)
				got[v.Value] = true
			}
			// Every value the brute force finds on a trace is listed.
			for v := range got {
				query, _ := traceql.Parse(fmt.Sprintf(`{ %s = %q }`, tag, v))
				assert.NotEmpty(t, brute.Search(query, w.start, w.end, 1), "%s = %q listed but on no trace", tag, v)
			}
			assert.NotEmpty(t, got, tag)
		}
	})

	t.Run("Grafana's sequence", func(t *testing.T) {
		code, body, _ := d.get(t, "/api/echo", nil, "")
		require.Equal(t, http.StatusOK, code)
		assert.Equal(t, "echo", string(body))
		code, body, _ = d.get(t, "/api/status/buildinfo", nil, "")
		require.Equal(t, http.StatusOK, code)
		var bi struct{ Version, Revision, Branch, BuildUser, BuildDate, GoVersion string }
		strict(t, body, &bi)

		code, body, _ = d.get(t, "/api/v2/search/tags", w.params("limit", "5000"), "")
		require.Equal(t, http.StatusOK, code, string(body))
		var tags tagsResponse
		strict(t, body, &tags)
		scopes := map[string][]string{}
		for _, s := range tags.Scopes {
			scopes[s.Name] = s.Tags
		}
		assert.Contains(t, scopes["span"], "sandwatch.extension")
		assert.Contains(t, scopes["span"], "sandwatch.anomaly")
		assert.Contains(t, scopes["resource"], "service.name")
		assert.Contains(t, scopes["intrinsic"], "status")

		// The builder's dropdowns: the static filters' values, the next
		// one narrowed by the first (q).
		code, body, _ = d.get(t, "/api/v2/search/tag/span.sandwatch.anomaly/values",
			w.params("limit", "5000", "q", fmt.Sprintf(`{span.sandwatch.extension=%q}`, ext)), "")
		require.Equal(t, http.StatusOK, code, string(body))
		var tv tagValuesResponse
		strict(t, body, &tv)
		var types []string
		for _, v := range tv.TagValues {
			types = append(types, v.Value)
		}
		assert.Contains(t, types, "exfiltration")

		q := fmt.Sprintf(`{span.sandwatch.extension=%q && span.sandwatch.anomaly="exfiltration"}`, ext)
		code, body, _ = d.get(t, "/api/search", w.params("q", q, "limit", "20", "spss", "3"), "application/json")
		require.Equal(t, http.StatusOK, code, string(body))
		var sr searchResponse
		strict(t, body, &sr)
		require.NotEmpty(t, sr.Traces)
		id := sr.Traces[0].TraceID

		// Open the trace as Grafana does: v2 protobuf.
		code, body, _ = d.get(t, "/api/v2/traces/"+id, nil, "application/protobuf")
		require.Equal(t, http.StatusOK, code)
		inner := protoField(t, body, 1)
		td, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(inner)
		require.NoError(t, err)
		require.Positive(t, td.SpanCount())
		assert.Equal(t, id, archive.TraceHex(td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).TraceID()))
	})

	t.Run("sandwatchctl forensics search runs the same engine", func(t *testing.T) {
		q := `{ span.sandwatch.anomaly = "exfiltration" }`
		code, body, _ := d.get(t, "/api/search", w.params("q", q, "limit", "100"), "")
		require.Equal(t, http.StatusOK, code)
		var sr searchResponse
		strict(t, body, &sr)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err := testutil.RunCtl(t, ctx, "forensics", "search", q, "--from", w.start.Format(time.RFC3339),
			"--to", w.end.Format(time.RFC3339), "--limit", "100", "--json", "--store", d.store)
		require.NoError(t, err, out)
		var ids []string
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "{") {
				var l struct {
					TraceID string `json:"trace_id"`
				}
				require.NoError(t, json.Unmarshal([]byte(line), &l))
				ids = append(ids, l.TraceID)
			}
		}
		var api []string
		for _, tr := range sr.Traces {
			api = append(api, tr.TraceID)
		}
		assert.Equal(t, api, ids)
	})
}

// protoField returns the first length-delimited field num of msg.
func protoField(t *testing.T, msg []byte, num protowire.Number) []byte {
	t.Helper()
	for len(msg) > 0 {
		n, typ, l := protowire.ConsumeTag(msg)
		require.GreaterOrEqual(t, l, 0)
		msg = msg[l:]
		l = protowire.ConsumeFieldValue(n, typ, msg)
		require.GreaterOrEqual(t, l, 0)
		if n == num && typ == protowire.BytesType {
			v, _ := protowire.ConsumeBytes(msg)
			return v
		}
		msg = msg[l:]
	}
	t.Fatalf("field %d not found", num)
	return nil
}
