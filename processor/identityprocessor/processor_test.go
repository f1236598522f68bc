package identityprocessor

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"

	"github.com/sandwatch/sandwatch/internal/identitymark"
	"github.com/sandwatch/sandwatch/processor/identityprocessor/internal/binding"
)

func digest(tok string) string {
	d := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(d[:])
}

var testBindings = []binding.Entry{
	{Name: "host-a", TokensSHA256: []string{digest("token-a")}, Extensions: []string{"ext-a"}},
	{Name: "node-7", CertCommonNames: []string{"node-7"}, Hosts: []string{"node-7"}},
}

func newTestProcessor(t *testing.T, cfg *Config) *identity {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	p, err := newIdentity(cfg, noTelemetry())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func checkConfig() *Config {
	cfg := createDefaultConfig()
	cfg.Bindings = testBindings
	cfg.TrustedForwarders.CertCommonNames = []string{"sandwatch-tier1"}
	return cfg
}

func withToken(tok string) context.Context {
	return client.NewContext(context.Background(), client.Info{
		Metadata: client.NewMetadata(map[string][]string{"authorization": {"Bearer " + tok}})})
}

func withCert(ctx context.Context, cn string) context.Context {
	cert := &x509.Certificate{Subject: pkix.Name{CommonName: cn}}
	st := tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}, VerifiedChains: [][]*x509.Certificate{{cert}}}
	return peer.NewContext(ctx, &peer.Peer{AuthInfo: credentials.TLSInfo{State: st}})
}

// spans builds one resource (with attrs) holding one span per extension id.
func spans(resource map[string]string, exts ...string) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	for k, v := range resource {
		rs.Resource().Attributes().PutStr(k, v)
	}
	ss := rs.ScopeSpans().AppendEmpty()
	for _, e := range exts {
		s := ss.Spans().AppendEmpty()
		s.SetName("fs.read")
		s.Attributes().PutStr("extension.id", e)
		s.Attributes().PutStr("file.path", "/workspace/a.txt")
	}
	return td
}

// verdicts returns, per span, its flag reason ("" when not flagged), as
// the connectors would read it.
func verdicts(td ptrace.Traces) []string {
	var out []string
	rs := td.ResourceSpans().At(0)
	for _, s := range rs.ScopeSpans().At(0).Spans().All() {
		r, _ := identitymark.Check(rs.Resource().Attributes(), s.Attributes())
		out = append(out, r)
	}
	return out
}

func stampOf(td ptrace.Traces) string {
	v, ok := td.ResourceSpans().At(0).Resource().Attributes().Get(identitymark.Identity)
	if !ok {
		return "<none>"
	}
	return v.Str()
}

func TestCheck(t *testing.T) {
	p := newTestProcessor(t, checkConfig())
	cases := []struct {
		name      string
		ctx       context.Context
		resource  map[string]string
		exts      []string
		want      []string
		wantStamp string
	}{
		{"bound token, own extension and one it is not bound to", withToken("token-a"), nil,
			[]string{"ext-a", "ext-b"}, []string{"", identitymark.ReasonExtensionNotBound}, "host-a"},
		{"unknown token", withToken("token-x"), nil,
			[]string{"ext-a"}, []string{identitymark.ReasonUnidentified}, "<none>"},
		{"no credential at all", context.Background(), nil,
			[]string{"ext-a"}, []string{identitymark.ReasonUnidentified}, "<none>"},
		{"host-bound certificate on its host", withCert(context.Background(), "node-7"), map[string]string{"host.name": "node-7"},
			[]string{"ext-a", "ext-z"}, []string{"", ""}, "node-7"},
		{"host-bound certificate, another host", withCert(context.Background(), "node-7"), map[string]string{"host.name": "node-8"},
			[]string{"ext-a"}, []string{identitymark.ReasonHostNotBound}, "node-7"},
		{"stamp forged by a client", withToken("token-a"), map[string]string{identitymark.Identity: "node-7"},
			[]string{"ext-a"}, []string{identitymark.ReasonForgedStamp}, "host-a"},
		{"client stamping its own name", withToken("token-a"), map[string]string{identitymark.Identity: "host-a"},
			[]string{"ext-a"}, []string{""}, "host-a"},
		{"forwarder's stamp believed", withCert(context.Background(), "sandwatch-tier1"), map[string]string{identitymark.Identity: "host-a"},
			[]string{"ext-a", "ext-b"}, []string{"", identitymark.ReasonExtensionNotBound}, "host-a"},
		{"forwarder without a stamp", withCert(context.Background(), "sandwatch-tier1"), nil,
			[]string{"ext-a"}, []string{identitymark.ReasonUnidentified}, "<none>"},
		{"forwarder stamping an unknown identity", withCert(context.Background(), "sandwatch-tier1"), map[string]string{identitymark.Identity: "ghost"},
			[]string{"ext-a"}, []string{identitymark.ReasonUnidentified}, "ghost"},
		{"a client's own flag is removed", withToken("token-a"), nil,
			[]string{"ext-a"}, []string{""}, "host-a"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			td := spans(c.resource, c.exts...)
			if c.name == "a client's own flag is removed" {
				td.ResourceSpans().At(0).Resource().Attributes().PutBool(identitymark.Flagged, true)
			}
			out, err := p.processTraces(c.ctx, td)
			if err != nil {
				t.Fatal(err)
			}
			if got := verdicts(out); strings.Join(got, ",") != strings.Join(c.want, ",") {
				t.Errorf("verdicts %q, want %q", got, c.want)
			}
			if got := stampOf(out); got != c.wantStamp {
				t.Errorf("stamp %q, want %q", got, c.wantStamp)
			}
		})
	}
}

func TestStampMode(t *testing.T) {
	cfg := createDefaultConfig()
	cfg.Mode = ModeStamp
	cfg.Bindings = testBindings
	p := newTestProcessor(t, cfg)
	td, _ := p.processTraces(withToken("token-a"), spans(map[string]string{identitymark.Identity: "node-7"}, "ext-b"))
	if got := stampOf(td); got != "host-a" {
		t.Fatalf("stamp %q, want the sender's own identity host-a", got)
	}
	if got := verdicts(td); got[0] != "" {
		t.Fatalf("tier 1 judged: %q", got)
	}
	td, _ = p.processTraces(withToken("token-x"), spans(map[string]string{identitymark.Identity: "host-a"}, "ext-a"))
	if got := stampOf(td); got != "<none>" {
		t.Fatalf("an unidentified sender kept the stamp it wrote: %q", got)
	}
}

func TestLogs(t *testing.T) {
	p := newTestProcessor(t, checkConfig())
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	recs := rl.ScopeLogs().AppendEmpty().LogRecords()
	for _, ext := range []string{"ext-a", "ext-b"} {
		r := recs.AppendEmpty()
		r.Body().SetEmptyMap().PutStr("extension", ext) // an audit-log line's body
	}
	out, err := p.processLogs(withToken("token-a"), ld)
	if err != nil {
		t.Fatal(err)
	}
	res := out.ResourceLogs().At(0).Resource().Attributes()
	var got []string
	for _, r := range out.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().All() {
		reason, _ := identitymark.Check(res, r.Attributes())
		got = append(got, reason)
	}
	if strings.Join(got, ",") != ","+identitymark.ReasonExtensionNotBound {
		t.Fatalf("verdicts %q", got)
	}
}

func TestBindingsFileReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "identities.yaml")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("identities:\n  - {name: host-a, tokens_sha256: [" + digest("token-a") + "], extensions: [ext-a]}\n")
	cfg := createDefaultConfig()
	cfg.BindingsFile = path
	cfg.ReloadInterval = 0 // the test drives reload itself
	p := newTestProcessor(t, cfg)
	if err := p.start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = p.shutdown(context.Background()) }()
	judge := func() string {
		td, _ := p.processTraces(withToken("token-a"), spans(nil, "ext-b"))
		return verdicts(td)[0]
	}
	if got := judge(); got != identitymark.ReasonExtensionNotBound {
		t.Fatalf("before reload: %q", got)
	}
	f := &binding.File{Path: path}
	_, _, _ = f.Load()
	write("identities:\n  - {name: host-a, tokens_sha256: [" + digest("token-a") + "], extensions: [ext-a, ext-b]}\n")
	p.reload(context.Background(), f)
	if got := judge(); got != "" {
		t.Fatalf("after reload ext-b is bound, got %q", got)
	}
	write("identities:\n  - {name: host-a, tokens_sha256: [not-a-digest], extensions: [ext-a]}\n")
	p.reload(context.Background(), f)
	if got := judge(); got != "" {
		t.Fatalf("an invalid file replaced the good bindings: %q", got)
	}
}

func TestStartFailsOnMissingFile(t *testing.T) {
	cfg := createDefaultConfig()
	cfg.BindingsFile = filepath.Join(t.TempDir(), "missing.yaml")
	p := newTestProcessor(t, cfg)
	err := p.start(context.Background(), componenttest.NewNopHost())
	if err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Fatalf("start: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		mut  func(*Config)
		want string
	}{
		{func(c *Config) { c.Bindings = nil }, "bindings: none"},
		{func(c *Config) { c.BindingsFile = "/x" }, "bindings_file: set either"},
		{func(c *Config) { c.Mode = "strict" }, "mode: \"strict\""},
		{func(c *Config) { c.Mode = ModeStamp }, "trusted_forwarders: only in check mode"},
		{func(c *Config) { c.ReloadInterval = -1 }, "reload_interval"},
		{func(c *Config) { c.TokenMetadataKey = "" }, "token_metadata_key"},
		{func(c *Config) { c.Bindings = []binding.Entry{{Name: "a", Extensions: []string{"x"}}} }, "bindings[0]: \"a\" has no credential"},
		{func(c *Config) { c.EventModel.Profiles = []string{"nope"} }, "event_model.profiles"},
	}
	for _, c := range cases {
		cfg := checkConfig()
		c.mut(cfg)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want an error containing %q, got %v", c.want, err)
		}
	}
	if err := checkConfig().Validate(); err != nil {
		t.Fatal(err)
	}
}

func noTelemetry() component.TelemetrySettings { return componenttest.NewNopTelemetrySettings() }
