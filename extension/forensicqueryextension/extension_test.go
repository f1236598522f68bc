package forensicqueryextension

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/sandwatch/sandwatch/extension/forensicqueryextension/internal/metadata"
	"github.com/sandwatch/sandwatch/internal/archive"
	"github.com/sandwatch/sandwatch/internal/simulate"
)

// seed writes one simulated invocation to a file store and returns its id.
func seed(t *testing.T, dir string) (string, int) {
	t.Helper()
	b, _, err := archive.Open(context.Background(), "file://"+dir, archive.S3Options{})
	require.NoError(t, err)
	defer b.Close()
	td, _ := simulate.New(simulate.Options{Seed: 3, Extensions: 3}).Invocation(0, time.Now())
	w := &archive.Writer{Bucket: b, Format: archive.DefaultFormat}
	_, err = w.WriteTraces(context.Background(), td)
	require.NoError(t, err)
	id := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).TraceID()
	return archive.TraceHex(id), td.SpanCount()
}

// field returns the bytes of the first length-delimited field num of msg.
func field(t *testing.T, msg []byte, num protowire.Number) []byte {
	t.Helper()
	for len(msg) > 0 {
		n, typ, l := protowire.ConsumeTag(msg)
		require.GreaterOrEqual(t, l, 0)
		msg = msg[l:]
		if typ == protowire.BytesType {
			v, l := protowire.ConsumeBytes(msg)
			require.GreaterOrEqual(t, l, 0)
			if n == num {
				return v
			}
			msg = msg[l:]
			continue
		}
		l = protowire.ConsumeFieldValue(n, typ, msg)
		require.GreaterOrEqual(t, l, 0)
		msg = msg[l:]
	}
	t.Fatalf("field %d not found", num)
	return nil
}

func get(t *testing.T, url, accept string) (int, string, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), body
}

func TestHandlerTempoAPI(t *testing.T) {
	dir := t.TempDir()
	id, spans := seed(t, dir)
	b, local, err := archive.Open(context.Background(), "file://"+dir, archive.S3Options{})
	require.NoError(t, err)
	defer b.Close()
	srv := httptest.NewServer(Handler(&archive.Reader{Bucket: b, LocalDir: local}))
	defer srv.Close()

	code, _, body := get(t, srv.URL+"/api/echo", "")
	assert.Equal(t, 200, code)
	assert.Equal(t, "echo", string(body))

	// Grafana's v2 call: TraceByIDResponse{trace=1{resourceSpans=1}}.
	code, ctype, body := get(t, srv.URL+"/api/v2/traces/"+id, "application/protobuf")
	require.Equal(t, 200, code, string(body))
	assert.Equal(t, "application/protobuf", ctype)
	trace := field(t, body, 1)
	field(t, trace, 1) // at least one resourceSpans
	td, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(trace)
	require.NoError(t, err)
	assert.Equal(t, spans, td.SpanCount())

	// v1 protobuf: tempopb.Trace.
	code, _, body = get(t, srv.URL+"/api/traces/"+id, "application/protobuf")
	require.Equal(t, 200, code)
	td, err = (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(body)
	require.NoError(t, err)
	assert.Equal(t, spans, td.SpanCount())

	// JSON forms.
	code, ctype, body = get(t, srv.URL+"/api/v2/traces/"+id, "")
	require.Equal(t, 200, code)
	assert.Equal(t, "application/json", ctype)
	var v2 struct {
		Trace struct {
			ResourceSpans []struct {
				ScopeSpans []struct {
					Spans []struct {
						TraceID string `json:"traceId"`
					} `json:"spans"`
				} `json:"scopeSpans"`
			} `json:"resourceSpans"`
		} `json:"trace"`
	}
	require.NoError(t, json.Unmarshal(body, &v2))
	n := 0
	for _, rs := range v2.Trace.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				assert.Equal(t, id, s.TraceID)
				n++
			}
		}
	}
	assert.Equal(t, spans, n)
	code, _, body = get(t, srv.URL+"/api/traces/"+id, "application/json")
	require.Equal(t, 200, code)
	assert.Contains(t, string(body), `{"batches":[`)

	for _, tc := range []struct {
		path string
		code int
	}{
		{"/api/traces/" + "0123456789abcdef0123456789abcdef", 404},
		{"/api/v2/traces/zz", 400},
		{"/api/traces/00000000000000000000000000000000", 400},
		{"/api/traces/" + id + "00", 400},
		{"/api/traces/..%2F..%2Fetc", 400},
	} {
		code, _, _ := get(t, srv.URL+tc.path, "")
		assert.Equal(t, tc.code, code, tc.path)
	}
}

func TestParseIDPadsShortIDs(t *testing.T) {
	id, err := parseID("ABCDEF0123456789")
	require.NoError(t, err)
	assert.Equal(t, "0000000000000000abcdef0123456789", archive.TraceHex(id))
}

func TestExtensionLifecycle(t *testing.T) {
	dir := t.TempDir()
	id, _ := seed(t, dir)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	cfg := createDefaultConfig()
	assert.Equal(t, "127.0.0.1:3200", cfg.NetAddr.Endpoint, "loopback by default")
	cfg.NetAddr.Endpoint = addr
	cfg.Store = "file://" + dir
	require.NoError(t, cfg.Validate())
	ext, err := NewFactory().Create(context.Background(), extensiontest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()))
	code, _, _ := get(t, fmt.Sprintf("http://%s/api/traces/%s", addr, id), "")
	assert.Equal(t, 200, code)
	require.NoError(t, ext.Shutdown(context.Background()))
}

func TestConfigValidate(t *testing.T) {
	cfg := createDefaultConfig()
	require.NoError(t, cfg.Validate())
	cfg.NetAddr.Endpoint = "nohost"
	cfg.Store = ""
	err := cfg.Validate()
	assert.ErrorContains(t, err, "endpoint")
	assert.ErrorContains(t, err, "store: empty")
}

// TestHandlerEncrypted: an encrypted archive is served with its keys, and
// is a clear error without them.
func TestHandlerEncrypted(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TEST_KEK", strings.Repeat("ab", 32))
	enc := archive.Encryption{ActiveKey: "k1", Keys: []archive.KeySource{{ID: "k1", Env: "TEST_KEK"}}}
	ring, err := enc.Ring()
	require.NoError(t, err)
	b, local, err := archive.Open(context.Background(), "file://"+dir, archive.S3Options{})
	require.NoError(t, err)
	defer b.Close()
	td, _ := simulate.New(simulate.Options{Seed: 3, Extensions: 3}).Invocation(0, time.Now())
	_, err = (&archive.Writer{Bucket: b, Format: archive.DefaultFormat, Keys: ring}).WriteTraces(context.Background(), td)
	require.NoError(t, err)
	id := archive.TraceHex(td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).TraceID())

	srv := httptest.NewServer(Handler(&archive.Reader{Bucket: b, LocalDir: local, Keys: ring}))
	defer srv.Close()
	code, _, body := get(t, srv.URL+"/api/v2/traces/"+id, "application/json")
	require.Equal(t, http.StatusOK, code, string(body))
	assert.Contains(t, string(body), td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Name())

	bare := httptest.NewServer(Handler(&archive.Reader{Bucket: b, LocalDir: local}))
	defer bare.Close()
	code, _, body = get(t, bare.URL+"/api/v2/traces/"+id, "application/json")
	assert.Equal(t, http.StatusInternalServerError, code)
	assert.Contains(t, string(body), "missing or wrong key")
}
