package wazerohost

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

var guestWasm []byte

// TestMain compiles the test plugin once with GOOS=wasip1 GOARCH=wasm.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wazerohost-guest")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out := filepath.Join(dir, "guest.wasm")
	cmd := exec.Command("go", "build", "-o", out, "./testdata/guest")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the guest: %v\n%s", err, b)
		os.Exit(1)
	}
	guestWasm, err = os.ReadFile(out)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type fixture struct {
	host   *Host
	rec    *tracetest.SpanRecorder
	srv    *httptest.Server
	secret atomic.Int32 // requests that reached /secret
}

func newFixture(t *testing.T, cfg Config) *fixture {
	t.Helper()
	f := &fixture{rec: tracetest.NewSpanRecorder()}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/secret":
			f.secret.Add(1)
			fmt.Fprint(w, "secret")
		case "/bounce":
			http.Redirect(w, r, "http://localhost:"+r.URL.Query().Get("port")+"/secret", http.StatusFound)
		case "/missing":
			http.NotFound(w, r)
		default:
			fmt.Fprint(w, "ok:"+r.Method)
		}
	}))
	t.Cleanup(f.srv.Close)
	cfg.TracerProvider = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(f.rec))
	h, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close(context.Background()) })
	f.host = h
	return f
}

func (f *fixture) port() string {
	_, p, _ := net.SplitHostPort(f.srv.Listener.Addr().String())
	return p
}

func (f *fixture) spans(name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range f.rec.Ended() {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

func attrs(s sdktrace.ReadOnlySpan) map[string]attribute.Value {
	m := map[string]attribute.Value{}
	for _, kv := range s.Attributes() {
		m[string(kv.Key)] = kv.Value
	}
	return m
}

func TestHTTPCallAllowedAndDenied(t *testing.T) {
	f := newFixture(t, Config{Allowlist: []string{"127.0.0.1"}})
	allowed := f.srv.URL + "/health?token=abc"
	denied := "http://localhost:" + f.port() + "/secret"
	res, err := f.host.Run(context.Background(), Plugin{ID: "ping-checker", Version: "0.3.1", Wasm: guestWasm}, "fetch", allowed, denied)
	if err != nil {
		t.Fatalf("run: %v\nstderr: %s", err, res.Stderr)
	}
	if got, want := string(res.Stdout), "200 6 ok:GET\n-1 0 \n"; got != want {
		t.Errorf("plugin output %q, want %q", got, want)
	}
	if n := f.secret.Load(); n != 0 {
		t.Errorf("the denied URL was requested %d times", n)
	}

	roots := f.spans(SpanExecute)
	if len(roots) != 1 {
		t.Fatalf("%d plugin.execute spans", len(roots))
	}
	root := roots[0]
	ra := attrs(root)
	if ra[AttrPluginID].AsString() != "ping-checker" || ra[AttrPluginVersion].AsString() != "0.3.1" || ra[AttrPluginOutcome].AsString() != OutcomeOK {
		t.Errorf("root attributes %v", ra)
	}
	if root.Status().Code == codes.Error {
		t.Errorf("a clean run has status %v", root.Status())
	}
	calls := f.spans(SpanHTTPCall)
	if len(calls) != 2 {
		t.Fatalf("%d http_call spans", len(calls))
	}
	for _, c := range calls {
		if c.Parent().SpanID() != root.SpanContext().SpanID() || c.SpanContext().TraceID() != res.TraceID {
			t.Errorf("http_call span not a child of plugin.execute")
		}
	}
	a0, a1 := attrs(calls[0]), attrs(calls[1])
	want0 := map[string]string{AttrPluginID: "ping-checker", AttrMethod: "GET", AttrURL: allowed, AttrDecision: DecisionAllowed, AttrRule: "127.0.0.1"}
	for k, v := range want0 {
		if a0[k].String() != v {
			t.Errorf("allowed call: %s = %q, want %q", k, a0[k].String(), v)
		}
	}
	if a0[AttrStatusCode].AsInt64() != 200 || calls[0].Status().Code == codes.Error {
		t.Errorf("allowed call: status %v, span status %v", a0[AttrStatusCode], calls[0].Status())
	}
	if a1[AttrDecision].AsString() != DecisionDenied || a1[AttrURL].AsString() != denied || a1[AttrPluginID].AsString() != "ping-checker" {
		t.Errorf("denied call attributes %v", a1)
	}
	if _, ok := a1[AttrStatusCode]; ok {
		t.Error("a denied call has a status code")
	}
	if calls[1].Status().Code != codes.Error || !strings.Contains(calls[1].Status().Description, "localhost not in allowlist") {
		t.Errorf("denied call status %v", calls[1].Status())
	}
}

func TestRedirectToDeniedHostIsDenied(t *testing.T) {
	f := newFixture(t, Config{Allowlist: []string{"127.0.0.1"}})
	res, err := f.host.Run(context.Background(), Plugin{ID: "p", Wasm: guestWasm}, "fetch", f.srv.URL+"/bounce?port="+f.port())
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Stdout) != "-1 0 \n" {
		t.Errorf("output %q", res.Stdout)
	}
	if f.secret.Load() != 0 {
		t.Error("the redirect target was requested")
	}
	a := attrs(f.spans(SpanHTTPCall)[0])
	if a[AttrDecision].AsString() != DecisionDenied || !strings.Contains(a["http_call.redirect.url"].AsString(), "localhost") {
		t.Errorf("attributes %v", a)
	}
}

func TestHTTPCallFailuresCarryErrorCodes(t *testing.T) {
	f := newFixture(t, Config{Allowlist: []string{"127.0.0.1"}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/"
	ln.Close()
	res, err := f.host.Run(context.Background(), Plugin{ID: "p", Wasm: guestWasm}, "fetch", closed, f.srv.URL+"/missing")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(res.Stdout), "-2 0 \n404 ") {
		t.Errorf("output %q", res.Stdout)
	}
	calls := f.spans(SpanHTTPCall)
	if a := attrs(calls[0]); a[AttrPluginError].AsString() != "ECONNREFUSED" || calls[0].Status().Code != codes.Error {
		t.Errorf("refused call: %v %v", a, calls[0].Status())
	}
	if a := attrs(calls[1]); a[AttrStatusCode].AsInt64() != 404 || calls[1].Status().Code != codes.Error {
		t.Errorf("404 call: %v %v", a, calls[1].Status())
	}
}

func TestPOSTBodyReachesServer(t *testing.T) {
	f := newFixture(t, Config{Allowlist: []string{"127.0.0.1"}})
	res, err := f.host.Run(context.Background(), Plugin{ID: "p", Wasm: guestWasm}, "post", f.srv.URL+"/x", "payload")
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Stdout) != "200 7 ok:POST\n" {
		t.Errorf("output %q", res.Stdout)
	}
}

// A panicking, a runaway and a failing plugin are each recorded with
// their plugin id and outcome, and the host runs the next plugin fine.
func TestCrashesAreRecordedAndContained(t *testing.T) {
	f := newFixture(t, Config{Allowlist: []string{"127.0.0.1"}, RunTimeout: 500 * time.Millisecond})
	ctx := context.Background()
	for _, tc := range []struct {
		id, outcome, code string
		args              []string
	}{
		{"crasher", OutcomePanic, "panic", []string{"panic"}},
		{"runaway", OutcomeTimeout, "timeout", []string{"spin"}},
		{"quitter", OutcomeExit, "exit_code_3", []string{"exit", "3"}},
	} {
		start := time.Now()
		res, err := f.host.Run(ctx, Plugin{ID: tc.id, Wasm: guestWasm}, tc.args...)
		if err == nil || res.Outcome != tc.outcome {
			t.Errorf("%s: outcome %q, err %v; want %q", tc.id, res.Outcome, err, tc.outcome)
		}
		if tc.outcome == OutcomeTimeout && time.Since(start) > 5*time.Second {
			t.Errorf("the runaway plugin ran %s past a 500ms deadline", time.Since(start))
		}
	}
	res, err := f.host.Run(ctx, Plugin{ID: "healthy", Wasm: guestWasm}, "fetch", f.srv.URL+"/")
	if err != nil || res.Outcome != OutcomeOK {
		t.Fatalf("the host did not survive: %v %v", res.Outcome, err)
	}
	byID := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range f.spans(SpanExecute) {
		byID[attrs(s)[AttrPluginID].AsString()] = s
	}
	for id, code := range map[string]string{"crasher": "panic", "runaway": "timeout", "quitter": "exit_code_3"} {
		s, ok := byID[id]
		if !ok {
			t.Errorf("%s: no span", id)
			continue
		}
		if a := attrs(s); a[AttrPluginError].AsString() != code || s.Status().Code != codes.Error {
			t.Errorf("%s: plugin.error %q, status %v", id, a[AttrPluginError].AsString(), s.Status())
		}
		if len(s.Events()) == 0 || s.Events()[0].Name != "exception" {
			t.Errorf("%s: no exception event", id)
		}
	}
	if d := byID["crasher"].Status().Description; !strings.Contains(d, "panic: plugin bug") {
		t.Errorf("panic message %q", d)
	}
}

func TestBadModuleIsALoadError(t *testing.T) {
	f := newFixture(t, Config{})
	res, err := f.host.Run(context.Background(), Plugin{ID: "junk", Wasm: []byte("not wasm")})
	if err == nil || res.Outcome != OutcomeError {
		t.Fatalf("outcome %q err %v", res.Outcome, err)
	}
	if a := attrs(f.spans(SpanExecute)[0]); a[AttrPluginError].AsString() != "load_error" {
		t.Errorf("attributes %v", a)
	}
}

// A run roots its own trace and links the caller's span, or nests under
// it with ChildOfCaller.
func TestRunRootsItsTrace(t *testing.T) {
	for _, child := range []bool{false, true} {
		f := newFixture(t, Config{ChildOfCaller: child})
		ctx, caller := f.host.tracer.Start(context.Background(), "caller")
		if _, err := f.host.Run(ctx, Plugin{ID: "p", Wasm: guestWasm}, "exit", "0"); err != nil {
			t.Fatal(err)
		}
		caller.End()
		run := f.spans(SpanExecute)[0]
		sc := caller.SpanContext()
		if child {
			if run.Parent().SpanID() != sc.SpanID() || run.SpanContext().TraceID() != sc.TraceID() {
				t.Errorf("ChildOfCaller: parent %v", run.Parent())
			}
			continue
		}
		if run.Parent().IsValid() || run.SpanContext().TraceID() == sc.TraceID() {
			t.Errorf("default: the run has parent %v", run.Parent())
		}
		if len(run.Links()) != 1 || run.Links()[0].SpanContext.SpanID() != sc.SpanID() {
			t.Errorf("default: links %v", run.Links())
		}
	}
}
