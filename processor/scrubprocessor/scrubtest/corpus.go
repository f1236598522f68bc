package scrubtest

import (
	"fmt"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/processor/scrubprocessor/internal/secrets"
)

// Carriers are the places a secret is planted in.
var Carriers = []string{
	"span.name", "span.attribute", "span.attribute.array", "span.attribute.nested-map",
	"event.name", "event.attribute", "exception.message", "exception.stacktrace",
	"link.attribute", "status.message", "resource.attribute", "scope.attribute",
	"log.body.string", "log.body.map", "log.attribute",
	"metric.sum.attribute", "metric.histogram.attribute", "metric.gauge.attribute",
	// Agent telemetry: tool arguments and results as JSON strings (see
	// agentcarriers.go); the secret must go and the JSON stay valid.
	"gen_ai.tool.call.arguments", "gen_ai.tool.call.result",
	"traceloop.entity.input", "traceloop.entity.output",
	"claude_code.tool_parameters", "claude_code.tool_input",
	"codex.arguments", "codex.output",
}

// Corpus is telemetry with planted credentials and benign values.
type Corpus struct {
	Traces  ptrace.Traces
	Logs    plog.Logs
	Metrics pmetric.Metrics
	// Planted lists every sample with the carrier it went to.
	Planted []Planted
	// Benign maps attribute key -> value that must come out unchanged.
	Benign map[string]string
}

// Planted is one credential in one carrier.
type Planted struct {
	Sample
	Carrier string
}

// RuleNames are the built-in rules the corpus covers: scrub's own (the
// gitleaks-parity module covers those ported from gitleaks).
func RuleNames() []string {
	ported := map[string]bool{}
	for _, n := range secrets.GitleaksRuleNames() {
		ported[n] = true
	}
	var out []string
	for _, r := range secrets.Builtin() {
		if !ported[r.Name] {
			out = append(out, r.Name)
		}
	}
	return out
}

// Build plants one sample of every built-in rule in every carrier and
// nBenign benign values (as span, log and metric attributes).
func Build(seed uint64, nBenign int) *Corpus {
	g := NewGen(seed)
	c := &Corpus{Benign: map[string]string{}}
	p := newPlanter()
	c.Traces, c.Logs, c.Metrics = p.td, p.ld, p.md
	samples, _ := Samples(g, RuleNames(), len(Carriers))
	for i, s := range samples {
		carrier := Carriers[i%len(Carriers)]
		c.Planted = append(c.Planted, Planted{Sample: s, Carrier: carrier})
		p.plant(carrier, s.Text)
	}
	for i, v := range Benign(g, nBenign) {
		key := fmt.Sprintf("app.value.%d", i)
		c.Benign[key] = v
		switch i % 3 {
		case 0:
			p.newSpan().Attributes().PutStr(key, v)
		case 1:
			p.sl.LogRecords().AppendEmpty().Attributes().PutStr(key, v)
		case 2:
			dp := p.sum.Sum().DataPoints().AppendEmpty()
			dp.Attributes().PutStr(key, v)
		}
	}
	return c
}

// Plant returns telemetry holding text in carrier (one of Carriers) and
// nothing else but the usual resource name: one credential, one carrier,
// so what survives scrubbing is attributable.
func Plant(carrier, text string) (ptrace.Traces, plog.Logs, pmetric.Metrics) {
	p := newPlanter()
	p.plant(carrier, text)
	return p.td, p.ld, p.md
}

// planter appends carriers to one set of traces, logs and metrics.
type planter struct {
	td               ptrace.Traces
	ld               plog.Logs
	md               pmetric.Metrics
	rs               ptrace.ResourceSpans
	ss               ptrace.ScopeSpans
	sl               plog.ScopeLogs
	sum, hist, gauge pmetric.Metric
	n                int
}

func newPlanter() *planter {
	p := &planter{td: ptrace.NewTraces(), ld: plog.NewLogs(), md: pmetric.NewMetrics()}
	p.rs = p.td.ResourceSpans().AppendEmpty()
	p.rs.Resource().Attributes().PutStr("service.name", "sandbox-host")
	p.ss = p.rs.ScopeSpans().AppendEmpty()
	p.ss.Scope().SetName("corpus")
	rl := p.ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "sandbox-host")
	p.sl = rl.ScopeLogs().AppendEmpty()
	rm := p.md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "sandbox-host")
	sm := rm.ScopeMetrics().AppendEmpty()
	p.sum = sm.Metrics().AppendEmpty()
	p.sum.SetName("corpus.sum")
	p.sum.SetEmptySum().SetIsMonotonic(true)
	p.hist = sm.Metrics().AppendEmpty()
	p.hist.SetName("corpus.histogram")
	p.hist.SetEmptyHistogram()
	p.gauge = sm.Metrics().AppendEmpty()
	p.gauge.SetName("corpus.gauge")
	p.gauge.SetEmptyGauge()
	return p
}

func (p *planter) newSpan() ptrace.Span {
	sp := p.ss.Spans().AppendEmpty()
	p.n++
	n := p.n
	sp.SetName(fmt.Sprintf("op-%d", n))
	sp.SetTraceID(pcommon.TraceID([16]byte{1, byte(n >> 8), byte(n)}))
	sp.SetSpanID(pcommon.SpanID([8]byte{2, byte(n >> 8), byte(n)}))
	return sp
}

// plant puts text into carrier, the way an instrumented host would.
func (p *planter) plant(carrier, text string) {
	key := "app.detail"
	switch carrier {
	case "span.name":
		p.newSpan().SetName("deploy " + text)
	case "span.attribute":
		p.newSpan().Attributes().PutStr(key, text)
	case "span.attribute.array":
		arr := p.newSpan().Attributes().PutEmptySlice("app.args")
		arr.AppendEmpty().SetStr("--verbose")
		arr.AppendEmpty().SetStr(text)
	case "span.attribute.nested-map":
		m := p.newSpan().Attributes().PutEmptyMap("app.request")
		m = m.PutEmptyMap("env").PutEmptyMap("vars")
		arr := m.PutEmptySlice("list")
		arr.AppendEmpty().SetEmptyMap().PutStr("v", text)
	case "event.name":
		p.newSpan().Events().AppendEmpty().SetName("retry with " + text)
	case "event.attribute":
		p.newSpan().Events().AppendEmpty().Attributes().PutStr(key, text)
	case "exception.message":
		ev := p.newSpan().Events().AppendEmpty()
		ev.SetName("exception")
		ev.Attributes().PutStr("exception.type", "AuthError")
		ev.Attributes().PutStr("exception.message", "auth failed: "+text)
	case "exception.stacktrace":
		ev := p.newSpan().Events().AppendEmpty()
		ev.SetName("exception")
		ev.Attributes().PutStr("exception.stacktrace", "Error: boom\n    at connect (db.js:12)\n    config="+text+"\n    at main (index.js:3)")
	case "link.attribute":
		l := p.newSpan().Links().AppendEmpty()
		l.SetTraceID(pcommon.TraceID([16]byte{9, byte(p.n)}))
		l.Attributes().PutStr(key, text)
	case "status.message":
		p.newSpan().Status().SetMessage("upstream rejected " + text)
	case "resource.attribute":
		r := p.td.ResourceSpans().AppendEmpty()
		r.Resource().Attributes().PutStr("process.command_line", "agent --config "+text)
		sp := r.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		sp.SetName("resource-carrier")
	case "scope.attribute":
		sc := p.rs.ScopeSpans().AppendEmpty()
		sc.Scope().Attributes().PutStr(key, text)
		sc.Spans().AppendEmpty().SetName("scope-carrier")
	case "log.body.string":
		p.sl.LogRecords().AppendEmpty().Body().SetStr("2024-05-01 ERROR " + text)
	case "log.body.map":
		m := p.sl.LogRecords().AppendEmpty().Body().SetEmptyMap()
		m.PutStr("msg", "request")
		m.PutEmptyMap("ctx").PutStr("detail", text)
	case "log.attribute":
		p.sl.LogRecords().AppendEmpty().Attributes().PutStr(key, text)
	case "metric.sum.attribute":
		dp := p.sum.Sum().DataPoints().AppendEmpty()
		dp.SetIntValue(1)
		dp.Attributes().PutStr(key, text)
	case "metric.histogram.attribute":
		dp := p.hist.Histogram().DataPoints().AppendEmpty()
		dp.SetCount(1)
		dp.Attributes().PutStr(key, text)
	case "metric.gauge.attribute":
		dp := p.gauge.Gauge().DataPoints().AppendEmpty()
		dp.SetDoubleValue(1)
		dp.Attributes().PutStr(key, text)
	default:
		if !p.plantAgent(carrier, text) {
			panic("scrubtest: unknown carrier " + carrier)
		}
	}
}

// Strings collects every string a backend would see, keyed attributes as
// "key=value", one per line, so a secret anywhere shows up in a search.
type Strings struct {
	B     strings.Builder
	Attrs map[string]string // flat attribute key -> last value seen
}

func NewStrings() *Strings { return &Strings{Attrs: map[string]string{}} }

func (w *Strings) str(s string) { w.B.WriteString(s); w.B.WriteByte('\n') }

func (w *Strings) value(k string, v pcommon.Value) {
	switch v.Type() {
	case pcommon.ValueTypeMap:
		w.Map(v.Map())
	case pcommon.ValueTypeSlice:
		for i := 0; i < v.Slice().Len(); i++ {
			w.value(k, v.Slice().At(i))
		}
	case pcommon.ValueTypeBytes:
		w.str(string(v.Bytes().AsRaw()))
	default:
		w.str(v.AsString())
		if k != "" {
			w.Attrs[k] = v.AsString()
		}
	}
}

// Map adds every key and value.
func (w *Strings) Map(m pcommon.Map) {
	m.Range(func(k string, v pcommon.Value) bool {
		w.str(k)
		w.value(k, v)
		return true
	})
}

// Traces adds every string of td.
func (w *Strings) Traces(td ptrace.Traces) {
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		rs := td.ResourceSpans().At(i)
		w.Map(rs.Resource().Attributes())
		for j := 0; j < rs.ScopeSpans().Len(); j++ {
			ss := rs.ScopeSpans().At(j)
			w.Map(ss.Scope().Attributes())
			for k := 0; k < ss.Spans().Len(); k++ {
				sp := ss.Spans().At(k)
				w.str(sp.Name())
				w.str(sp.Status().Message())
				w.Map(sp.Attributes())
				for e := 0; e < sp.Events().Len(); e++ {
					w.str(sp.Events().At(e).Name())
					w.Map(sp.Events().At(e).Attributes())
				}
				for l := 0; l < sp.Links().Len(); l++ {
					w.Map(sp.Links().At(l).Attributes())
				}
			}
		}
	}
}

// Logs adds every string of ld.
func (w *Strings) Logs(ld plog.Logs) {
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		rl := ld.ResourceLogs().At(i)
		w.Map(rl.Resource().Attributes())
		for j := 0; j < rl.ScopeLogs().Len(); j++ {
			sl := rl.ScopeLogs().At(j)
			w.Map(sl.Scope().Attributes())
			for k := 0; k < sl.LogRecords().Len(); k++ {
				r := sl.LogRecords().At(k)
				w.value("", r.Body())
				w.Map(r.Attributes())
			}
		}
	}
}

// Metrics adds every data point attribute of md.
func (w *Strings) Metrics(md pmetric.Metrics) {
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		rm := md.ResourceMetrics().At(i)
		w.Map(rm.Resource().Attributes())
		for j := 0; j < rm.ScopeMetrics().Len(); j++ {
			sm := rm.ScopeMetrics().At(j)
			w.Map(sm.Scope().Attributes())
			for k := 0; k < sm.Metrics().Len(); k++ {
				m := sm.Metrics().At(k)
				switch m.Type() {
				case pmetric.MetricTypeSum:
					for d := 0; d < m.Sum().DataPoints().Len(); d++ {
						w.Map(m.Sum().DataPoints().At(d).Attributes())
					}
				case pmetric.MetricTypeGauge:
					for d := 0; d < m.Gauge().DataPoints().Len(); d++ {
						w.Map(m.Gauge().DataPoints().At(d).Attributes())
					}
				case pmetric.MetricTypeHistogram:
					for d := 0; d < m.Histogram().DataPoints().Len(); d++ {
						w.Map(m.Histogram().DataPoints().At(d).Attributes())
					}
				}
			}
		}
	}
}

// Check returns the planted samples that survived in w and the benign
// values that were changed or lost.
func (c *Corpus) Check(w *Strings) (survived []Planted, overRedacted []string) {
	all := w.B.String()
	for _, p := range c.Planted {
		if strings.Contains(all, p.Secret) {
			survived = append(survived, p)
		}
	}
	for k, v := range c.Benign {
		if w.Attrs[k] != v {
			overRedacted = append(overRedacted, v+" -> "+w.Attrs[k])
		}
	}
	return survived, overRedacted
}
