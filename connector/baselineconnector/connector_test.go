package baselineconnector

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/detect"
	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/profile"
	"github.com/sandwatch/sandwatch/internal/simulate"
)

// Every scenario, injected after learning, yields its anomaly type on the
// injected trace, with trace and span ids set and the learning state.
func TestScenariosDetected(t *testing.T) {
	for _, sc := range simulate.Scenarios() {
		want := simulate.AnomalyType(sc)
		if want == "" {
			continue
		}
		for ext := 0; ext < 4; ext++ { // one extension of each host style
			t.Run(fmt.Sprintf("%s/%d", sc, ext), func(t *testing.T) {
				r := newRig(t, nil)
				g := simulate.New(simulate.Options{Seed: 7, Extensions: 4})
				r.learn(g, 100)
				require.Empty(t, r.records(), "benign learning raised anomalies")
				td, ld, inj, err := g.Inject(sc, ext, r.clock)
				require.NoError(t, err)
				r.feed(td, ld)
				var found *record
				for _, x := range r.records() {
					if x.Type == want && x.TraceID == [16]byte(inj.TraceID) {
						found = &x
					}
				}
				require.NotNil(t, found, "want %s for %s, got %v", want, inj.ExtensionID, r.records())
				assert.Equal(t, inj.ExtensionID, found.Ext)
				assert.Equal(t, "detecting", found.Learning)
				assert.NotEqual(t, [8]byte{}, found.SpanID)
				assert.EqualValues(t, 1, found.Count)
			})
		}
	}
}

func span(ss ptrace.SpanSlice, tid pcommon.TraceID, id byte, parent byte, attrs map[string]any) ptrace.Span {
	s := ss.AppendEmpty()
	s.SetTraceID(tid)
	s.SetSpanID(pcommon.SpanID{id})
	if parent != 0 {
		s.SetParentSpanID(pcommon.SpanID{parent})
	}
	s.SetName("op")
	s.SetStartTimestamp(pcommon.Timestamp(1_000_000_000))
	s.SetEndTimestamp(pcommon.Timestamp(1_002_000_000))
	_ = s.Attributes().FromRaw(attrs)
	return s
}

// goose builds one trace of a Goose-style extension from child attribute sets.
func goose(ext string, tid byte, children ...map[string]any) ptrace.Traces {
	td := ptrace.NewTraces()
	ss := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	id := pcommon.TraceID{tid, 1}
	for i, c := range children {
		c["extension.id"] = ext
		span(ss, id, byte(i+2), 1, c)
	}
	span(ss, id, 1, 0, map[string]any{"extension.id": ext})
	return td
}

func TestDeclaredProfileEnforcedFromFirstSpan(t *testing.T) {
	r := newRig(t, func(c *Config) {
		c.Profiles = map[string]profile.DeclaredSpec{"weather": {Hosts: []string{"*.weather.example.com"}, Tables: []string{"forecast_*"}}}
	})
	r.feed(goose("weather", 1,
		map[string]any{"block.type": "HttpRequestBlock", "http.method": "GET", "http.url": "https://api.weather.example.com/v1/x"},
		map[string]any{"block.type": "HttpRequestBlock", "http.method": "GET", "http.url": "https://evil.example.net/x"},
		map[string]any{"block.type": "SqlQueryBlock", "db.table": "forecast_daily", "sql.query": "SELECT 1 FROM forecast_daily"},
		map[string]any{"block.type": "SqlQueryBlock", "db.table": "users", "sql.query": "SELECT * FROM users"},
		map[string]any{"block.type": "FileReadBlock", "fs.operation": "read", "fs.path": "/workspace/a-1.json"},
	), plog.NewLogs())
	got := r.records()
	require.Len(t, got, 2, "%v", got)
	assert.Equal(t, record{Type: "new_destination", Ext: "weather", Target: "evil.example.net", Learning: "learning", Severity: "warn", Count: 1,
		TraceID: [16]byte{1, 1}, SpanID: [8]byte{3}}, got[0])
	assert.Equal(t, "new_table", got[1].Type)
	assert.Equal(t, "users", got[1].Target)
	// Paths are not declared: learned, no anomaly during learning.
}

// Learned and declared combine: a declared class is an allowlist from
// the first span; undeclared classes are learned; after learning a
// declared host is not new though never seen, learned templates are not
// new, and targets outside both are.
func TestLearnedAndDeclaredCombine(t *testing.T) {
	r := newRig(t, func(c *Config) {
		c.LearnInvocations = 3
		c.Profiles = map[string]profile.DeclaredSpec{"notes": {Hosts: []string{"*.notes.io"}}}
	})
	for i := 0; i < 3; i++ {
		r.feed(goose("notes", byte(10+i), map[string]any{"block.type": "FileReadBlock", "fs.path": fmt.Sprintf("/workspace/notes-%d.json", i)},
			map[string]any{"block.type": "HttpRequestBlock", "http.method": "GET", "http.url": "https://api.notes.io/x"}), plog.NewLogs())
	}
	require.Empty(t, r.records())
	r.feed(goose("notes", 20,
		map[string]any{"block.type": "FileReadBlock", "fs.path": "/workspace/notes-77.json"}, // learned template
		map[string]any{"block.type": "FileReadBlock", "fs.path": "/etc/passwd"},              // new
		map[string]any{"block.type": "HttpRequestBlock", "http.method": "GET", "http.url": "https://CDN.notes.io:443/y"},
		map[string]any{"block.type": "HttpRequestBlock", "http.method": "GET", "http.url": "https://other.io/y"},
	), plog.NewLogs())
	got := r.records()
	require.Len(t, got, 2, "%v", got)
	assert.Equal(t, "new_path", got[0].Type)
	assert.Equal(t, "/etc/passwd", got[0].Target)
	assert.Equal(t, "detecting", got[0].Learning)
	assert.Equal(t, "new_destination", got[1].Type)
	assert.Equal(t, "other.io", got[1].Target)
}

// Exfiltration needs per-trace state: the egress may arrive before the
// read, in another batch.
func TestExfiltrationAcrossBatchesAnyOrder(t *testing.T) {
	r := newRig(t, func(c *Config) { c.LearnInvocations = 2 })
	for i := 0; i < 2; i++ {
		r.feed(goose("x", byte(30+i), map[string]any{"block.type": "HttpRequestBlock", "http.method": "POST", "http.url": "https://ok.io/x"}), plog.NewLogs())
	}
	tid := pcommon.TraceID{99, 1}
	td := ptrace.NewTraces()
	span(td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans(), tid, 5, 1,
		map[string]any{"extension.id": "x", "block.type": "HttpRequestBlock", "http.method": "POST", "http.url": "https://drop.evil.io/c"})
	r.feed(td, plog.NewLogs())
	assert.NotContains(t, types(r.records()), "exfiltration")
	r.advance(time.Second)
	td = ptrace.NewTraces()
	span(td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans(), tid, 6, 1,
		map[string]any{"extension.id": "x", "block.type": "FileReadBlock", "fs.operation": "read", "fs.path": "/home/a/.ssh/id_rsa"})
	r.feed(td, plog.NewLogs())
	ex := ofType(r.records(), "exfiltration")
	require.Len(t, ex, 1, "%v", r.records())
	assert.Equal(t, "drop.evil.io", ex[0].Target)
	assert.Equal(t, [8]byte{5}, ex[0].SpanID, "points at the egress span")
	assert.Equal(t, "critical", ex[0].Severity)
}

// Without a root span the invocation is judged after idle_timeout.
func TestIdleInvocationJudged(t *testing.T) {
	r := newRig(t, func(c *Config) { c.LearnInvocations = 20; c.MinSamples = 20; c.IdleTimeout = time.Second })
	one := func(tid byte, selects int) {
		td := ptrace.NewTraces()
		ss := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
		for i := 0; i < selects; i++ {
			span(ss, pcommon.TraceID{tid, 2}, byte(i+2), 1, map[string]any{"extension.id": "db", "block.type": "SqlQueryBlock", "db.table": "t", "sql.query": "SELECT 1 FROM t"})
		}
		r.feed(td, plog.NewLogs())
		r.advance(1500 * time.Millisecond)
		r.b.tick(context.Background(), false)
	}
	for i := 0; i < 20; i++ {
		one(byte(i+1), 2+i%2)
	}
	require.Empty(t, r.records())
	p, _ := r.b.eng.Profile("db")
	require.True(t, p.Learned)
	one(200, 60)
	got := r.records()
	require.Len(t, got, 1, "%v", got)
	assert.Equal(t, "volume_spike", got[0].Type)
	assert.Equal(t, "db", got[0].Target)
}

func TestDedupCountsRepeats(t *testing.T) {
	r := newRig(t, func(c *Config) { c.DedupInterval = time.Minute })
	denied := func(tid byte) {
		r.feed(goose("js", tid, map[string]any{"capability.name": "shadow_realm", "capability.decision": "denied"}), plog.NewLogs())
	}
	for i := 0; i < 5; i++ {
		denied(byte(40 + i))
		r.advance(time.Second)
	}
	got := r.records()
	require.Len(t, got, 1, "%v", got)
	assert.Equal(t, "capability_denied", got[0].Type)
	r.advance(time.Minute)
	r.b.tick(context.Background(), false)
	got = r.records()
	require.Len(t, got, 2, "%v", got)
	assert.True(t, got[1].Repeat)
	assert.EqualValues(t, 4, got[1].Count)
	assert.Equal(t, [16]byte{44, 1}, got[1].TraceID, "summary points at the latest occurrence")
	// The metric counts every occurrence.
	md := r.b.buildMetrics(r.clock)
	dp := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Sum().DataPoints().At(0)
	assert.EqualValues(t, 5, dp.IntValue())
	ext, _ := dp.Attributes().Get("extension")
	assert.Equal(t, "js", ext.Str())
}

func TestUserRules(t *testing.T) {
	r := newRig(t, func(c *Config) {
		c.Rules = []RuleConfig{
			{Name: "metadata_endpoint", Condition: `IsMatch(attributes["http.url"], "^http://169[.]254[.]169[.]254")`, Severity: detect.SeverityCritical},
			{Name: "audit_warn", Context: "log", Condition: `severity_number >= SEVERITY_NUMBER_WARN and attributes["capability.name"] == "ffi.open"`},
		}
	})
	r.feed(goose("agent", 50,
		map[string]any{"block.type": "HttpRequestBlock", "http.method": "GET", "http.url": "http://169.254.169.254/latest/"},
		map[string]any{"block.type": "HttpRequestBlock", "http.method": "GET", "http.url": "https://fine.io/"}), plog.NewLogs())
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("sandbox.script.id", "js-1")
	rec := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	rec.SetSeverityNumber(plog.SeverityNumberWarn)
	rec.SetTraceID(pcommon.TraceID{51})
	rec.Attributes().PutStr("capability.name", "ffi.open")
	rec.Attributes().PutStr("capability.decision", "permitted")
	rec.Attributes().PutStr("ffi.library", "libc.so.6")
	require.NoError(t, r.logs.ConsumeLogs(context.Background(), ld))
	got := types(r.records())
	assert.Equal(t, map[string]int{"metadata_endpoint": 1, "audit_warn": 1}, got)
	for _, x := range r.records() {
		if x.Type == "metadata_endpoint" {
			assert.Equal(t, "critical", x.Severity)
			assert.Equal(t, "agent", x.Ext)
			assert.Equal(t, [8]byte{2}, x.SpanID)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for name, tc := range map[string]struct {
		mutate func(*Config)
		want   string
	}{
		"default":      {func(*Config) {}, ""},
		"idle":         {func(c *Config) { c.IdleTimeout = time.Hour }, "idle_timeout"},
		"severity":     {func(c *Config) { c.Detectors.Recon.Severity = "loud" }, "detectors.recon.severity"},
		"bad glob":     {func(c *Config) { c.Profiles = map[string]profile.DeclaredSpec{"e": {Hosts: []string{"[a"}}} }, "profiles[e].hosts"},
		"rule name":    {func(c *Config) { c.Rules = []RuleConfig{{Name: "recon", Condition: "true"}} }, "built-in"},
		"rule syntax":  {func(c *Config) { c.Rules = []RuleConfig{{Name: "r", Condition: "attributes[ =="}} }, "rule \"r\""},
		"rule context": {func(c *Config) { c.Rules = []RuleConfig{{Name: "r", Context: "metric", Condition: "true"}} }, "context"},
		"targets":      {func(c *Config) { c.MaxTargets.Paths = 0 }, "max_targets.paths"},
	} {
		t.Run(name, func(t *testing.T) {
			c := createDefaultConfig().(*Config)
			tc.mutate(c)
			err := c.Validate()
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// collectorConfig is the shape the collector validates: it calls
// confmap.Validate on its whole config, which runs Config.Validate and
// then every Validate of a nested field, and prefixes the path.
type collectorConfig struct {
	Connectors map[component.ID]component.Config `mapstructure:"connectors"`
}

// What a user sees: each bad setting once, by its full key and value, in
// the order of the configuration.
func TestConfigValidateMessages(t *testing.T) {
	badGlob := []string{"[a"}
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		want   []string // lines of Config.Validate; none when valid
	}{
		{"recon window_probes", func(c *Config) { c.Detectors.Recon.WindowProbes = 0 },
			[]string{"detectors.recon.window_probes: must be positive (got 0)"}},
		{"volume_spike min_ratio", func(c *Config) { c.Detectors.VolumeSpike.MinRatio = 0.5 },
			[]string{"detectors.volume_spike.min_ratio: must be >= 1 (got 0.5)"}},
		{"detector severity once", func(c *Config) { c.Detectors.Recon.Severity = "loud" },
			[]string{`detectors.recon.severity: must be info, warn, error or critical (got "loud")`}},
		{"rule severity", func(c *Config) { c.Rules = []RuleConfig{{Name: "r", Condition: "true", Severity: "loud"}} },
			[]string{`rules[0]: severity: must be info, warn, error or critical (got "loud")`}},
		// The README's default: a rule without a severity is a warning.
		{"rule severity defaults", func(c *Config) { c.Rules = []RuleConfig{{Name: "r", Condition: "true"}} }, nil},
		{"several, in order", func(c *Config) {
			c.Detectors.Recon.Sigma = 0
			c.Detectors.Recon.MinProbes = 0
			c.Detectors.NewPath.Severity = "x"
			c.Profiles = map[string]profile.DeclaredSpec{"zeta": {Hosts: badGlob}, "alpha": {Paths: badGlob}, "mid": {Tables: badGlob}}
		}, []string{
			`profiles[alpha].paths: pattern "[a": unexpected end of input`,
			`profiles[mid].tables: pattern "[a": unexpected end of input`,
			`profiles[zeta].hosts: pattern "[a": unexpected end of input`,
			`detectors.new_path.severity: must be info, warn, error or critical (got "x")`,
			"detectors.recon.min_probes: must be positive (got 0)",
			"detectors.recon.sigma: must be positive (got 0)",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := createDefaultConfig().(*Config)
			tc.mutate(c)
			collector := confmap.Validate(collectorConfig{map[component.ID]component.Config{component.MustNewID("baseline"): c}})
			if tc.want == nil {
				require.NoError(t, c.Validate())
				require.NoError(t, collector)
				return
			}
			want := strings.Join(tc.want, "\n")
			for range 10 { // map order must not leak into the message
				require.EqualError(t, c.Validate(), want)
			}
			require.EqualError(t, collector, "connectors::baseline: "+want)
		})
	}
}

// The collector feeds traces->logs and traces->metrics the same spans:
// the detector must count them once (no spurious repeats, no doubled
// metrics), and the metrics face still emits at shutdown.
func TestSignalPairsObserveOnce(t *testing.T) {
	r := newRig(t, func(c *Config) { c.DedupInterval = time.Minute })
	td := goose("js", 60, map[string]any{"capability.name": "shadow_realm", "capability.decision": "denied"})
	require.NoError(t, r.traces.ConsumeTraces(context.Background(), td))
	require.NoError(t, r.tm.ConsumeTraces(context.Background(), td))
	r.advance(2 * time.Minute)
	r.b.tick(context.Background(), false)
	got := r.records()
	require.Len(t, got, 1, "%v", got)
	r.shutdown()
	r.stopped = true
	require.NotEmpty(t, r.msink.AllMetrics())
	last := r.msink.AllMetrics()[len(r.msink.AllMetrics())-1]
	m := last.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	assert.Equal(t, "sandbox.anomalies", m.At(0).Name())
	assert.EqualValues(t, 1, m.At(0).Sum().DataPoints().At(0).IntValue())
}
