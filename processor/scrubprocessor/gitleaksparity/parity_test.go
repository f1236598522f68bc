// Package gitleaksparity proves that scrub redacts everything gitleaks'
// default rules find. It is a module of its own so that the collector
// never carries gitleaks: gitleaks is the judge, at test time only.
package gitleaksparity

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/zricethezav/gitleaks/v8/detect"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/sandwatch/sandwatch/processor/scrubprocessor"
	"github.com/sandwatch/sandwatch/processor/scrubprocessor/scrubtest"
)

// samplesPerRule is how many distinct strings each gitleaks rule gets;
// attemptsPerRule bounds the generation (gitleaks' own entropy floors,
// stop words and allow lists reject some of the strings a regex
// matches, and those are not credentials by gitleaks' judgement either).
const (
	samplesPerRule  = 16
	attemptsPerRule = 400
)

// Excluded are gitleaks rules scrub leaves out on purpose; the README's
// "gitleaks parity" section says why for each.
var Excluded = map[string]string{
	"pkcs12-file":            "a path-only rule: it flags files named *.p12/*.pfx, not content; telemetry has no files to flag",
	"kubernetes-secret-yaml": "scoped by gitleaks to *.yaml files; its regex spans up to 300 bytes of any text around the keyword secret, which is common in telemetry",
}

// pathScoped are the rules gitleaks applies only to files of a certain
// name; the test gives their strings such a name, since telemetry has
// none and scrub applies them everywhere.
var pathScoped = map[string]string{
	"freemius-secret-key":   "plugin/config.php",
	"hashicorp-tf-password": "infra/main.tf",
	"nuget-config-password": "src/nuget.config",
}

type planted struct {
	rule, text, secret string
}

// corpus generates, for every rule of gitleaks' default config, strings
// its regex matches that gitleaks itself reports under that rule.
func corpus(t *testing.T, d *detect.Detector) (map[string][]planted, int) {
	g := scrubtest.NewRegexGen(20261129)
	out := map[string][]planted{}
	tried := 0
	for _, id := range d.Config.OrderedRules {
		r := d.Config.Rules[id]
		if _, skip := Excluded[id]; skip {
			continue
		}
		if r.Regex == nil {
			t.Errorf("rule %s has no regex and is not excluded", id)
			continue
		}
		re, err := scrubtest.ParseRegex(r.Regex.String())
		if err != nil {
			t.Fatalf("rule %s: %v", id, err)
		}
		seen := map[string]bool{}
		for k := 0; k < attemptsPerRule && len(out[id]) < samplesPerRule; k++ {
			text := g.Sample(re, k)
			if !containsKeyword(text, r.Keywords) {
				// gitleaks reports a rule only where one of its
				// keywords occurs in the text (facebook for a
				// facebook-access-token); say it the way logs do.
				text = r.Keywords[k%len(r.Keywords)] + " token: " + text
			}
			tried++
			if seen[text] {
				continue
			}
			seen[text] = true
			for _, f := range d.Detect(detect.Fragment{Raw: text, FilePath: pathScoped[id]}) {
				if f.RuleID == id && f.Secret != "" {
					out[id] = append(out[id], planted{rule: id, text: text, secret: f.Secret})
					break
				}
			}
		}
		if len(out[id]) == 0 {
			t.Errorf("rule %s: no generated string was reported by gitleaks (regex %s)", id, r.Regex)
		}
	}
	return out, tried
}

func containsKeyword(text string, kws []string) bool {
	lower := strings.ToLower(text)
	for _, kw := range kws {
		if strings.Contains(lower, kw) {
			return true
		}
	}
	return len(kws) == 0
}

func defaultDetector(t testing.TB) *detect.Detector {
	d, err := detect.NewDetectorDefaultConfig()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

type pipeline struct {
	traces  processor.Traces
	logs    processor.Logs
	metrics processor.Metrics
	tsink   *consumertest.TracesSink
	lsink   *consumertest.LogsSink
	msink   *consumertest.MetricsSink
}

func newPipeline(t *testing.T) *pipeline {
	f := scrubprocessor.NewFactory()
	set := processortest.NewNopSettings(f.Type())
	cfg := f.CreateDefaultConfig()
	p := &pipeline{tsink: new(consumertest.TracesSink), lsink: new(consumertest.LogsSink), msink: new(consumertest.MetricsSink)}
	var err error
	ctx := context.Background()
	if p.traces, err = f.CreateTraces(ctx, set, cfg, p.tsink); err != nil {
		t.Fatal(err)
	}
	if p.logs, err = f.CreateLogs(ctx, set, cfg, p.lsink); err != nil {
		t.Fatal(err)
	}
	if p.metrics, err = f.CreateMetrics(ctx, set, cfg, p.msink); err != nil {
		t.Fatal(err)
	}
	return p
}

// scrub sends text in carrier through the processor at its defaults and
// returns every string a backend would see.
func (p *pipeline) scrub(t *testing.T, carrier, text string) string {
	td, ld, md := scrubtest.Plant(carrier, text)
	ctx := context.Background()
	w := scrubtest.NewStrings()
	switch {
	case td.SpanCount() > 0:
		if err := p.traces.ConsumeTraces(ctx, td); err != nil {
			t.Fatal(err)
		}
		w.Traces(p.tsink.AllTraces()[0])
		p.tsink.Reset()
	case ld.LogRecordCount() > 0:
		if err := p.logs.ConsumeLogs(ctx, ld); err != nil {
			t.Fatal(err)
		}
		w.Logs(p.lsink.AllLogs()[0])
		p.lsink.Reset()
	default:
		if err := p.metrics.ConsumeMetrics(ctx, md); err != nil {
			t.Fatal(err)
		}
		w.Metrics(p.msink.AllMetrics()[0])
		p.msink.Reset()
	}
	return w.B.String()
}

// TestGitleaksParity: every string gitleaks' default rules report, planted
// in every carrier, comes out of scrub (at its defaults) with the secret
// gone, and gitleaks finds nothing in the output.
func TestGitleaksParity(t *testing.T) {
	d := defaultDetector(t)
	byRule, tried := corpus(t, d)
	p := newPipeline(t)
	rules := make([]string, 0, len(byRule))
	total := 0
	for id, ps := range byRule {
		rules = append(rules, id)
		total += len(ps)
	}
	sort.Strings(rules)
	leaks := map[string]int{}
	var examples []string
	judged := map[string]int{}
	for _, carrier := range scrubtest.Carriers {
		for _, id := range rules {
			for _, pl := range byRule[id] {
				out := p.scrub(t, carrier, pl.text)
				// The judge: gitleaks over what scrub let out.
				for _, f := range d.DetectString(out) {
					judged[f.RuleID]++
					if len(examples) < 60 {
						examples = append(examples, fmt.Sprintf("gitleaks %s finds %q in %q", f.RuleID, f.Secret, out))
					}
				}
				// Leaked: the secret's bytes are still there as often as
				// planted (a degenerate sample's secret, such as 40
				// underscores, may also occur in its non-secret part).
				if strings.Count(out, pl.secret) >= strings.Count(pl.text, pl.secret) {
					leaks[id]++
					if leaks[id] <= 2 {
						examples = append(examples, fmt.Sprintf("%s in %s: %q -> %q", id, carrier, pl.text, out))
					}
				}
			}
		}
	}
	t.Logf("gitleaks rules: %d, covered: %d, excluded: %d; strings tried: %d, reported by gitleaks and planted: %d, plantings (x %d carriers): %d",
		len(d.Config.Rules), len(rules), len(Excluded), tried, total, len(scrubtest.Carriers), total*len(scrubtest.Carriers))
	if len(leaks) > 0 || len(judged) > 0 {
		ids := slices.Sorted(func(yield func(string) bool) {
			for id := range leaks {
				if !yield(id) {
					return
				}
			}
		})
		t.Errorf("secrets survived for %d rules: %v\ngitleaks findings in the output by rule: %v\n%s", len(leaks), ids, judged, strings.Join(examples, "\n"))
		for _, id := range ids {
			t.Logf("LEAK %s %d", id, leaks[id])
		}
	}
}

// TestExcludedAreGitleaksRules keeps the exclusion list honest: an id
// gitleaks no longer has is stale.
func TestExcludedAreGitleaksRules(t *testing.T) {
	d := defaultDetector(t)
	for id := range Excluded {
		if _, ok := d.Config.Rules[id]; !ok {
			t.Errorf("excluded rule %s is not a gitleaks rule", id)
		}
	}
}
