package scrubprocessor

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/sandwatch/sandwatch/processor/scrubprocessor/internal/metadata"
	"github.com/sandwatch/sandwatch/processor/scrubprocessor/scrubtest"
)

func loadConfig(t *testing.T, raw map[string]any) *Config {
	t.Helper()
	cfg := createDefaultConfig()
	require.NoError(t, confmap.NewFromStringMap(raw).Unmarshal(cfg))
	return cfg
}

type pipeline struct {
	traces  *consumertest.TracesSink
	logs    *consumertest.LogsSink
	metrics *consumertest.MetricsSink
	tel     *componenttest.Telemetry
	run     func(c *scrubtest.Corpus)
}

func newPipeline(t *testing.T, cfg *Config) *pipeline {
	t.Helper()
	require.NoError(t, cfg.Validate())
	p := &pipeline{traces: new(consumertest.TracesSink), logs: new(consumertest.LogsSink), metrics: new(consumertest.MetricsSink), tel: componenttest.NewTelemetry()}
	t.Cleanup(func() { _ = p.tel.Shutdown(context.Background()) })
	set := processortest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = p.tel.NewTelemetrySettings()
	f := NewFactory()
	ctx := context.Background()
	tp, err := f.CreateTraces(ctx, set, cfg, p.traces)
	require.NoError(t, err)
	lp, err := f.CreateLogs(ctx, set, cfg, p.logs)
	require.NoError(t, err)
	mp, err := f.CreateMetrics(ctx, set, cfg, p.metrics)
	require.NoError(t, err)
	assert.True(t, tp.Capabilities().MutatesData)
	require.NoError(t, tp.Start(ctx, componenttest.NewNopHost()))
	t.Cleanup(func() { _ = tp.Shutdown(ctx); _ = lp.Shutdown(ctx); _ = mp.Shutdown(ctx) })
	p.run = func(c *scrubtest.Corpus) {
		require.NoError(t, tp.ConsumeTraces(ctx, c.Traces))
		require.NoError(t, lp.ConsumeLogs(ctx, c.Logs))
		require.NoError(t, mp.ConsumeMetrics(ctx, c.Metrics))
	}
	return p
}

func (p *pipeline) strings() *scrubtest.Strings {
	w := scrubtest.NewStrings()
	for _, td := range p.traces.AllTraces() {
		w.Traces(td)
	}
	for _, ld := range p.logs.AllLogs() {
		w.Logs(ld)
	}
	for _, md := range p.metrics.AllMetrics() {
		w.Metrics(md)
	}
	return w
}

// The corpus: every built-in rule's format planted in every carrier; no
// planted secret survives, and benign values stay as they were.
func TestCorpusDefaultConfig(t *testing.T) {
	p := newPipeline(t, createDefaultConfig())
	c := scrubtest.Build(7, 3000)
	require.Greater(t, len(c.Planted), 2000)
	p.run(c)
	survived, over := c.Check(p.strings())
	for _, s := range survived {
		t.Errorf("survived: rule %s in %s: %q", s.Rule, s.Carrier, s.Text)
	}
	rate := float64(len(over)) / float64(len(c.Benign))
	t.Logf("planted %d secrets (%d rules x %d carriers); benign over-redaction %d/%d = %.3f%%",
		len(c.Planted), len(scrubtest.RuleNames()), len(scrubtest.Carriers), len(over), len(c.Benign), 100*rate)
	for _, o := range over {
		t.Logf("over-redacted: %s", o)
	}
	assert.LessOrEqual(t, rate, 0.001, "stated over-redaction bound: 0.1%")

	// Own telemetry: per-rule counter and values scanned.
	m, err := p.tel.GetMetric("otelcol_processor_scrub_redactions")
	require.NoError(t, err)
	var total int64
	rules := map[string]bool{}
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		total += dp.Value
		r, _ := dp.Attributes.Value("rule")
		rules[r.AsString()] = true
	}
	assert.GreaterOrEqual(t, total, int64(len(c.Planted)))
	assert.True(t, rules["github-pat"])
	sc, err := p.tel.GetMetric("otelcol_processor_scrub_values_scanned")
	require.NoError(t, err)
	assert.Greater(t, sc.Data.(metricdata.Sum[int64]).DataPoints[0].Value, int64(len(c.Planted)))
}

func span(attrs map[string]any) ptrace.Traces {
	td := ptrace.NewTraces()
	sp := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	sp.SetName("op")
	_ = sp.Attributes().FromRaw(attrs)
	return td
}

func attrsOf(td ptrace.Traces) map[string]any {
	return td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().AsRaw()
}

func TestSensitiveKeysAndAllowKeys(t *testing.T) {
	cfg := loadConfig(t, map[string]any{"secrets": map[string]any{
		"allow_keys":     []any{"app.public_token"},
		"sensitive_keys": []any{"*.ssn"},
	}})
	p := newPipeline(t, cfg)
	td := span(map[string]any{
		"http.request.header.authorization": []any{"Bearer abc"},
		"http.request.header.x-api-key":     "k1",
		"http.request.header.cookie":        "a=b",
		"db.password":                       "hunter2",
		"user.ssn":                          "123-45-6789",
		"app.public_token":                  "visible",
		"gen_ai.usage.input_tokens":         int64(12),
		"credentials":                       map[string]any{"user": "u", "pass": "p"},
		"url.full":                          "https://example.com/a/12",
	})
	require.NoError(t, mustTraces(t, cfg, p).ConsumeTraces(context.Background(), td))
	got := attrsOf(p.traces.AllTraces()[0])
	assert.Equal(t, map[string]any{
		"http.request.header.authorization": []any{"[REDACTED:sensitive-key]"},
		"http.request.header.x-api-key":     "[REDACTED:sensitive-key]",
		"http.request.header.cookie":        "[REDACTED:sensitive-key]",
		"db.password":                       "[REDACTED:sensitive-key]",
		"user.ssn":                          "[REDACTED:sensitive-key]",
		"app.public_token":                  "visible",
		"gen_ai.usage.input_tokens":         int64(12),
		"credentials":                       map[string]any{"user": "[REDACTED:sensitive-key]", "pass": "[REDACTED:sensitive-key]"},
		"url.full":                          "https://example.com/a/12", // no pii by default
	}, got)
}

func mustTraces(t *testing.T, cfg *Config, p *pipeline) interface {
	ConsumeTraces(context.Context, ptrace.Traces) error
} {
	set := processortest.NewNopSettings(metadata.Type)
	tp, err := NewFactory().CreateTraces(context.Background(), set, cfg, p.traces)
	require.NoError(t, err)
	return tp
}

func TestPIIRole(t *testing.T) {
	cfg := loadConfig(t, map[string]any{"pii": map[string]any{
		"paths": map[string]any{"enabled": true, "templates": []any{"/data/users/*/profile.jpg"}},
		"urls":  map[string]any{"keys": []any{"url.full", "http.url"}},
		"sql":   map[string]any{"enabled": true},
		"hash":  map[string]any{"keys": []any{"user.id"}, "key": "k"},
	}})
	p := newPipeline(t, cfg)
	td := span(map[string]any{
		"file.path":      "/data/users/12345/profile.jpg",
		"http.url":       "https://api.example.com/v1/users/42/items?token=abcdef",
		"db.query.text":  "SELECT * FROM accounts WHERE id = 7",
		"user.id":        "alice",
		"server.address": "api.example.com",
	})
	require.NoError(t, mustTraces(t, cfg, p).ConsumeTraces(context.Background(), td))
	got := attrsOf(p.traces.AllTraces()[0])
	assert.Equal(t, "/data/users/*/profile.jpg", got["file.path"])
	assert.Equal(t, "https://api.example.com/v1/users/{id}/items?token=*", got["http.url"])
	assert.Equal(t, "SELECT * FROM accounts WHERE id = ?", got["db.query.text"])
	assert.Len(t, got["user.id"], 16)
	assert.NotEqual(t, "alice", got["user.id"])
	assert.Equal(t, "api.example.com", got["server.address"])
}

// Keyed HMAC per path segment: the id becomes a stable hash, so two spans
// of one user stay joinable; another user's id hashes differently; the key
// can come from a file.
func TestSegmentHash(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "segment.key")
	require.NoError(t, os.WriteFile(keyFile, []byte("0123456789abcdef0123456789abcdef\n"), 0o600))
	for _, seg := range []map[string]any{
		{"key": "0123456789abcdef0123456789abcdef", "length": 12},
		{"key_file": keyFile, "length": 12},
	} {
		cfg := loadConfig(t, map[string]any{"secrets": map[string]any{"enabled": false}, "pii": map[string]any{
			"paths": map[string]any{"segment_hash": seg},
			"urls":  map[string]any{"enabled": true},
		}})
		require.NoError(t, cfg.Validate())
		p := newPipeline(t, cfg)
		tp := mustTraces(t, cfg, p)
		var outs []map[string]any
		for _, path := range []string{"/data/users/12345/profile.jpg", "/data/users/12345/avatar.png", "/data/users/67890/profile.jpg"} {
			require.NoError(t, tp.ConsumeTraces(context.Background(), span(map[string]any{"file.path": path, "url.full": "https://h.example/v1" + path})))
			all := p.traces.AllTraces()
			outs = append(outs, attrsOf(all[len(all)-1]))
		}
		a, b, c := outs[0]["file.path"].(string), outs[1]["file.path"].(string), outs[2]["file.path"].(string)
		assert.Regexp(t, `^/data/users/[0-9a-f]{12}/profile\.jpg$`, a)
		assert.NotContains(t, a, "12345")
		assert.Equal(t, strings.Split(a, "/")[3], strings.Split(b, "/")[3], "one user, one hash: joinable")
		assert.NotEqual(t, strings.Split(a, "/")[3], strings.Split(c, "/")[3])
		assert.Equal(t, "https://h.example/v1"+a, outs[0]["url.full"], "URL paths hash alike")
	}
}

func TestConfigValidate(t *testing.T) {
	assert.NoError(t, createDefaultConfig().Validate())
	for _, tc := range []struct {
		raw  map[string]any
		want string
	}{
		{map[string]any{"secrets": map[string]any{"rules": []any{map[string]any{"name": "x", "regex": "(", "keywords": []any{"x"}}}}}, `rule "x": regex does not compile`},
		{map[string]any{"secrets": map[string]any{"rules": []any{map[string]any{"name": "x", "regex": "abc"}}}}, "secrets.rules[0] (x): add keywords"},
		{map[string]any{"secrets": map[string]any{"disable_rules": []any{"nope"}}}, `"nope" is not a built-in rule`},
		{map[string]any{"secrets": map[string]any{"allow_keys": []any{"[x"}}}, `allow key "[x"`},
		{map[string]any{"secrets": map[string]any{"max_depth": 0}}, "secrets.max_depth"},
		{map[string]any{"pii": map[string]any{"hash": map[string]any{"enabled": true}}}, "pii.hash.key: required"},
		{map[string]any{"pii": map[string]any{"paths": map[string]any{"templates": []any{"nope"}, "enabled": true}}}, `template "nope"`},
		{map[string]any{"pii": map[string]any{"paths": map[string]any{"segment_hash": map[string]any{"key": "short"}}}}, "pii.paths.segment_hash: the key has 5 bytes"},
		{map[string]any{"pii": map[string]any{"paths": map[string]any{"segment_hash": map[string]any{"key_file": "/nonexistent/key"}}}}, "pii.paths.segment_hash.key_file"},
		{map[string]any{"pii": map[string]any{"paths": map[string]any{"segment_hash": map[string]any{"key": "0123456789abcdef", "key_file": "/x"}}}}, "set key or key_file, not both"},
		{map[string]any{"pii": map[string]any{"urls": map[string]any{"segment_hash": map[string]any{"key": "0123456789abcdef", "length": 4}}}}, "pii.urls.segment_hash.length"},
	} {
		cfg := loadConfig(t, tc.raw)
		assert.ErrorContains(t, cfg.Validate(), tc.want)
	}
}

func TestHostileInput(t *testing.T) {
	cfg := createDefaultConfig()
	cfg.Secrets.MaxValueBytes = 2 << 20
	p := newPipeline(t, cfg)
	tok := "ghp_" + strings.Repeat("a1B2", 9)
	td := ptrace.NewTraces()
	sp := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	sp.Attributes().PutStr("big", strings.Repeat("x", 1<<20)+" "+tok)
	sp.Attributes().PutStr("utf8", "\xff\xfe"+tok+"\xc0")
	sp.Attributes().PutEmptyBytes("raw").FromRaw([]byte("k=" + tok))
	v := sp.Attributes().PutEmptyMap("deep")
	for i := 0; i < 100; i++ {
		v = v.PutEmptyMap("d")
	}
	v.PutStr("leaf", tok)
	sp.Attributes().PutStr("huge", strings.Repeat("y", 3<<20))
	p.run(&scrubtest.Corpus{Traces: td, Logs: scrubtest.Build(1, 0).Logs, Metrics: scrubtest.Build(1, 0).Metrics})
	w := p.strings()
	assert.False(t, strings.Contains(w.B.String(), tok), "secret survived")
	got := p.traces.AllTraces()[0].ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
	huge, _ := got.Get("huge")
	assert.Equal(t, "[REDACTED:oversize]", huge.Str())
	// The nesting limit replaced the sub-tree below depth 64.
	assert.True(t, strings.Contains(w.B.String(), "[REDACTED:depth-limit]"))
	raw, _ := got.Get("raw")
	assert.Equal(t, pcommon.ValueTypeBytes, raw.Type())
}

// A batch without secrets is passed through unmodified (nothing written).
func TestNoChangeNoWrite(t *testing.T) {
	p := newPipeline(t, createDefaultConfig())
	td := span(map[string]any{"url.full": "https://api.example.com/v1/x", "file.path": "/workspace/a.txt"})
	want := ptrace.NewTraces()
	td.CopyTo(want)
	require.NoError(t, mustTraces(t, createDefaultConfig(), p).ConsumeTraces(context.Background(), td))
	assert.Equal(t, attrsOf(want), attrsOf(p.traces.AllTraces()[0]))
}
