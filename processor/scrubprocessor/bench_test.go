package scrubprocessor_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/redactionprocessor"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/sandwatch/sandwatch/internal/procstat"
	"github.com/sandwatch/sandwatch/internal/simulate"
	"github.com/sandwatch/sandwatch/processor/scrubprocessor"
	"github.com/sandwatch/sandwatch/processor/scrubprocessor/internal/secrets"
	"github.com/sandwatch/sandwatch/processor/scrubprocessor/scrubtest"
)

// realisticBatch: spans of a sandbox host, each with a handful of URL,
// path, SQL and header attributes; one span in 20 carries a credential.
func realisticBatch(n int) ptrace.Traces {
	g := scrubtest.NewGen(42)
	samples, _ := scrubtest.Samples(g, scrubtest.RuleNames(), 1)
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "goose-host")
	rs.Resource().Attributes().PutStr("host.name", "sandbox-7")
	ss := rs.ScopeSpans().AppendEmpty()
	hosts := []string{"api.weather.example.com", "docs.example.org", "api.github.com", "registry.npmjs.org"}
	for i := 0; i < n; i++ {
		sp := ss.Spans().AppendEmpty()
		sp.SetTraceID(pcommon.TraceID([16]byte{byte(i), byte(i >> 8), 1}))
		sp.SetSpanID(pcommon.SpanID([8]byte{byte(i), 2}))
		a := sp.Attributes()
		a.PutStr("extension.id", fmt.Sprintf("ext-%03d", i%50))
		switch i % 3 {
		case 0:
			sp.SetName("GET")
			h := hosts[i%len(hosts)]
			a.PutStr("http.request.method", "GET")
			a.PutStr("url.full", fmt.Sprintf("https://%s/v1/forecast/%d?units=metric&lang=en", h, 1000+i))
			a.PutStr("server.address", h)
			a.PutStr("http.request.header.user-agent", "goose/1.4.2 (linux; x86_64)")
			a.PutStr("http.request.header.accept", "application/json")
			a.PutInt("http.response.status_code", 200)
		case 1:
			sp.SetName("fs.read")
			a.PutStr("file.path", fmt.Sprintf("/workspace/project/src/module-%d/index.ts", i%40))
			a.PutStr("file.operation", "read")
			a.PutStr("process.command_line", "node /opt/ext/main.js --mode sandbox")
		case 2:
			sp.SetName("SELECT orders")
			a.PutStr("db.system.name", "postgresql")
			a.PutStr("db.query.text", fmt.Sprintf("SELECT id, total FROM orders WHERE customer_id = %d AND status = 'open' LIMIT 50", i))
			a.PutStr("db.collection.name", "orders")
			a.PutStr("server.address", "db.internal")
		}
		if i%20 == 7 {
			s := samples[i%len(samples)]
			a.PutStr("app.detail", s.Text)
		}
	}
	return td
}

func newScrub(b *testing.B, next consumer.Traces) processor.Traces {
	f := scrubprocessor.NewFactory()
	p, err := f.CreateTraces(context.Background(), processortest.NewNopSettings(f.Type()), f.CreateDefaultConfig(), next)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// equivalentRegexes are the scrub rule set as plain regexes, the form the
// redaction processor takes (it has no keyword prefilter).
func equivalentRegexes(limit int) []string {
	var out []string
	for _, r := range secrets.Builtin() {
		re := r.Regex
		if re == "" { // url-password is hand-written in scrub
			re = `://[^/\s:@]+:[^/\s@]+@`
		}
		out = append(out, re)
		if limit > 0 && len(out) == limit {
			break
		}
	}
	return out
}

func newRedaction(b *testing.B, next consumer.Traces, limit int) processor.Traces {
	f := redactionprocessor.NewFactory()
	cfg := f.CreateDefaultConfig().(*redactionprocessor.Config)
	cfg.AllowAllKeys = true
	cfg.BlockedValues = equivalentRegexes(limit)
	cfg.BlockedKeyPatterns = []string{`(?i).*(authorization|cookie|password|passwd|secret|token|api[-_]?key|credential).*`}
	cfg.Summary = "silent"
	p, err := f.CreateTraces(context.Background(), processortest.NewNopSettings(f.Type()), cfg, next)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// secretHeavyBatch: the realistic batch with a third of its spans turned
// into HTTP calls carrying api_key=sk_live_... in url.full and a bearer
// JWT in the Authorization header (simulate --secret-ratio 0.33).
func secretHeavyBatch(n int) ptrace.Traces {
	td := realisticBatch(n)
	simulate.AddSecrets(td, 0.33, 7)
	return td
}

// BenchmarkProcessors runs scrub and contrib redaction side by side on
// the same batches, the realistic mix and the secret-heavy one. Run with
// -cpu 1; spans/cpu-s is per CPU-second of the consuming thread (robust
// on a shared machine); allocs/op is per 1000 spans.
func BenchmarkProcessors(b *testing.B) {
	const spans = 1000
	mixes := []struct {
		name string
		src  ptrace.Traces
	}{
		{"realistic", realisticBatch(spans)},
		{"secret-heavy", secretHeavyBatch(spans)},
	}
	cases := []struct {
		name string
		mk   func(*testing.B, consumer.Traces) processor.Traces
	}{
		{"scrub", newScrub},
		{"redaction-equivalent-all-rules", func(b *testing.B, n consumer.Traces) processor.Traces { return newRedaction(b, n, 0) }},
		{"redaction-first-20-rules", func(b *testing.B, n consumer.Traces) processor.Traces { return newRedaction(b, n, 20) }},
	}
	for _, mix := range mixes {
		for _, c := range cases {
			b.Run(mix.name+"/"+c.name, func(b *testing.B) {
				p := c.mk(b, consumertest.NewNop())
				ctx := context.Background()
				// The CPU time of this thread in ConsumeTraces: on a
				// machine shared with other work, wall time per op
				// measures the neighbours too.
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				var cpu time.Duration
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					td := ptrace.NewTraces()
					mix.src.CopyTo(td)
					b.StartTimer()
					t0 := procstat.ThreadCPU()
					if err := p.ConsumeTraces(ctx, td); err != nil {
						b.Fatal(err)
					}
					cpu += procstat.ThreadCPU() - t0
				}
				b.ReportMetric(float64(spans)*float64(b.N)/b.Elapsed().Seconds(), "spans/s")
				b.ReportMetric(float64(spans)*float64(b.N)/cpu.Seconds(), "spans/cpu-s")
			})
		}
	}
}
