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

// RuleNames are the built-in rules the corpus covers.
func RuleNames() []string {
	var out []string
	for _, r := range secrets.Builtin() {
		out = append(out, r.Name)
	}
	return out
}

// Build plants one sample of every built-in rule in every carrier and
// nBenign benign values (as span, log and metric attributes).
func Build(seed uint64, nBenign int) *Corpus {
	g := NewGen(seed)
	c := &Corpus{Traces: ptrace.NewTraces(), Logs: plog.NewLogs(), Metrics: pmetric.NewMetrics(), Benign: map[string]string{}}
	rs := c.Traces.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "sandbox-host")
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("corpus")
	rl := c.Logs.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "sandbox-host")
	sl := rl.ScopeLogs().AppendEmpty()
	rm := c.Metrics.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "sandbox-host")
	sm := rm.ScopeMetrics().AppendEmpty()
	sum := sm.Metrics().AppendEmpty()
	sum.SetName("corpus.sum")
	sum.SetEmptySum().SetIsMonotonic(true)
	hist := sm.Metrics().AppendEmpty()
	hist.SetName("corpus.histogram")
	hist.SetEmptyHistogram()
	gauge := sm.Metrics().AppendEmpty()
	gauge.SetName("corpus.gauge")
	gauge.SetEmptyGauge()

	n := 0
	newSpan := func() ptrace.Span {
		sp := ss.Spans().AppendEmpty()
		n++
		sp.SetName(fmt.Sprintf("op-%d", n))
		sp.SetTraceID(pcommon.TraceID([16]byte{1, byte(n >> 8), byte(n)}))
		sp.SetSpanID(pcommon.SpanID([8]byte{2, byte(n >> 8), byte(n)}))
		return sp
	}
	samples, _ := Samples(g, RuleNames(), len(Carriers))
	for i, s := range samples {
		carrier := Carriers[i%len(Carriers)]
		c.Planted = append(c.Planted, Planted{Sample: s, Carrier: carrier})
		key := "app.detail"
		switch carrier {
		case "span.name":
			newSpan().SetName("deploy " + s.Text)
		case "span.attribute":
			newSpan().Attributes().PutStr(key, s.Text)
		case "span.attribute.array":
			arr := newSpan().Attributes().PutEmptySlice("app.args")
			arr.AppendEmpty().SetStr("--verbose")
			arr.AppendEmpty().SetStr(s.Text)
		case "span.attribute.nested-map":
			m := newSpan().Attributes().PutEmptyMap("app.request")
			m = m.PutEmptyMap("env").PutEmptyMap("vars")
			arr := m.PutEmptySlice("list")
			arr.AppendEmpty().SetEmptyMap().PutStr("v", s.Text)
		case "event.name":
			newSpan().Events().AppendEmpty().SetName("retry with " + s.Text)
		case "event.attribute":
			newSpan().Events().AppendEmpty().Attributes().PutStr(key, s.Text)
		case "exception.message":
			ev := newSpan().Events().AppendEmpty()
			ev.SetName("exception")
			ev.Attributes().PutStr("exception.type", "AuthError")
			ev.Attributes().PutStr("exception.message", "auth failed: "+s.Text)
		case "exception.stacktrace":
			ev := newSpan().Events().AppendEmpty()
			ev.SetName("exception")
			ev.Attributes().PutStr("exception.stacktrace", "Error: boom\n    at connect (db.js:12)\n    config="+s.Text+"\n    at main (index.js:3)")
		case "link.attribute":
			l := newSpan().Links().AppendEmpty()
			l.SetTraceID(pcommon.TraceID([16]byte{9, byte(i)}))
			l.Attributes().PutStr(key, s.Text)
		case "status.message":
			newSpan().Status().SetMessage("upstream rejected " + s.Text)
		case "resource.attribute":
			r := c.Traces.ResourceSpans().AppendEmpty()
			r.Resource().Attributes().PutStr("process.command_line", "agent --config "+s.Text)
			sp := r.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
			sp.SetName("resource-carrier")
		case "scope.attribute":
			sc := rs.ScopeSpans().AppendEmpty()
			sc.Scope().Attributes().PutStr(key, s.Text)
			sc.Spans().AppendEmpty().SetName("scope-carrier")
		case "log.body.string":
			sl.LogRecords().AppendEmpty().Body().SetStr("2024-05-01 ERROR " + s.Text)
		case "log.body.map":
			m := sl.LogRecords().AppendEmpty().Body().SetEmptyMap()
			m.PutStr("msg", "request")
			m.PutEmptyMap("ctx").PutStr("detail", s.Text)
		case "log.attribute":
			sl.LogRecords().AppendEmpty().Attributes().PutStr(key, s.Text)
		case "metric.sum.attribute":
			dp := sum.Sum().DataPoints().AppendEmpty()
			dp.SetIntValue(1)
			dp.Attributes().PutStr(key, s.Text)
		case "metric.histogram.attribute":
			dp := hist.Histogram().DataPoints().AppendEmpty()
			dp.SetCount(1)
			dp.Attributes().PutStr(key, s.Text)
		case "metric.gauge.attribute":
			dp := gauge.Gauge().DataPoints().AppendEmpty()
			dp.SetDoubleValue(1)
			dp.Attributes().PutStr(key, s.Text)
		}
	}
	for i, v := range Benign(g, nBenign) {
		key := fmt.Sprintf("app.value.%d", i)
		c.Benign[key] = v
		switch i % 3 {
		case 0:
			newSpan().Attributes().PutStr(key, v)
		case 1:
			sl.LogRecords().AppendEmpty().Attributes().PutStr(key, v)
		case 2:
			dp := sum.Sum().DataPoints().AppendEmpty()
			dp.Attributes().PutStr(key, v)
		}
	}
	return c
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
