package classifyonceprocessor

import (
	"context"
	"runtime"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/sandwatch/sandwatch/connector/baselineconnector"
	"github.com/sandwatch/sandwatch/connector/sandboxmetricsconnector"
	"github.com/sandwatch/sandwatch/internal/procstat"
	"github.com/sandwatch/sandwatch/internal/simulate"
	"github.com/sandwatch/sandwatch/processor/classifyonceprocessor/internal/metadata"
)

type benchBatch struct {
	td ptrace.Traces
	ld plog.Logs
	n  int
}

// benchMixes are the harness's three load mixes, in batches of about
// 1,000 records: the simulator's (1 span in 20 with a secret), the
// secret-heavy one (a third of the spans HTTP calls with credentials) and
// the agent mix (every emitter, content on half the agents; spans and
// log events).
func benchMixes(b *testing.B) map[string][]benchBatch {
	at := time.Unix(1795000000, 0)
	build := func(next func(i int) (ptrace.Traces, plog.Logs), secrets float64) []benchBatch {
		var out []benchBatch
		i := 0
		for len(out) < 24 {
			td, ld := ptrace.NewTraces(), plog.NewLogs()
			for td.SpanCount()+ld.LogRecordCount() < 1000 {
				t, l := next(i)
				i++
				t.ResourceSpans().MoveAndAppendTo(td.ResourceSpans())
				l.ResourceLogs().MoveAndAppendTo(ld.ResourceLogs())
			}
			if secrets > 0 {
				simulate.AddSecrets(td, secrets, uint64(len(out)))
			}
			out = append(out, benchBatch{td, ld, td.SpanCount() + ld.LogRecordCount()})
		}
		return out
	}
	ext := simulate.New(simulate.Options{Seed: 1, Extensions: 200, Noise: 1})
	agents := simulate.NewAgents(simulate.AgentOptions{Seed: 1, Agents: 48, Content: 0.5, Meta: 0.5, Noise: 1})
	return map[string][]benchBatch{
		"simulator":    build(func(i int) (ptrace.Traces, plog.Logs) { return ext.Invocation(i, at) }, 0),
		"secret-heavy": build(func(i int) (ptrace.Traces, plog.Logs) { return ext.Invocation(i, at) }, 0.33),
		"agent":        build(func(i int) (ptrace.Traces, plog.Logs) { return agents.Session(i, at) }, 0),
	}
}

// consumers builds sandbox_metrics and baseline as default.yaml has them
// (their default configs, no state storage) behind a fan-out, with or
// without classify_once in front.
func consumers(b *testing.B, scoped bool) (consumer.Traces, consumer.Logs) {
	ctx := context.Background()
	host := componenttest.NewNopHost()
	smf, blf := sandboxmetricsconnector.NewFactory(), baselineconnector.NewFactory()
	smCfg, blCfg := smf.CreateDefaultConfig(), blf.CreateDefaultConfig()
	smT, err := smf.CreateTracesToMetrics(ctx, connectortest.NewNopSettings(smf.Type()), smCfg, consumertest.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	smL, _ := smf.CreateLogsToMetrics(ctx, connectortest.NewNopSettings(smf.Type()), smCfg, consumertest.NewNop())
	blT, err := blf.CreateTracesToLogs(ctx, connectortest.NewNopSettings(blf.Type()), blCfg, consumertest.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	blL, _ := blf.CreateLogsToLogs(ctx, connectortest.NewNopSettings(blf.Type()), blCfg, consumertest.NewNop())
	for _, c := range []component.Component{smT, smL, blT, blL} {
		if err := c.Start(ctx, host); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = c.Shutdown(ctx) })
	}
	tr, lg := fanoutTraces(smT, blT), fanoutLogs(smL, blL)
	if !scoped {
		return tr, lg
	}
	set := processortest.NewNopSettings(metadata.Type)
	tp, _ := NewFactory().CreateTraces(ctx, set, createDefaultConfig(), tr)
	lp, _ := NewFactory().CreateLogs(ctx, set, createDefaultConfig(), lg)
	return tp, lp
}

// BenchmarkFanout measures sandbox_metrics and baseline consuming the
// same batches, each classifying for itself ("alone") against both behind
// classify_once ("scoped"), per record, in CPU time of the benchmark's
// thread, on each mix. The connectors learn for a warm-up pass first.
//
//	go test -run '^$' -bench Fanout -benchtime 200x -count 3 ./processor/classifyonceprocessor/
func BenchmarkFanout(b *testing.B) {
	mixes := benchMixes(b)
	for _, mix := range []string{"simulator", "secret-heavy", "agent"} {
		for _, mode := range []string{"alone", "scoped"} {
			b.Run(mix+"/"+mode, func(b *testing.B) {
				batches := mixes[mix]
				tr, lg := consumers(b, mode == "scoped")
				ctx := context.Background()
				for _, bt := range batches { // learning, pools, caches
					_ = tr.ConsumeTraces(ctx, bt.td)
					_ = lg.ConsumeLogs(ctx, bt.ld)
				}
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				b.ReportAllocs()
				b.ResetTimer()
				records := 0
				t0 := procstat.ThreadCPU()
				for i := 0; i < b.N; i++ {
					bt := batches[i%len(batches)]
					_ = tr.ConsumeTraces(ctx, bt.td)
					if bt.ld.LogRecordCount() > 0 {
						_ = lg.ConsumeLogs(ctx, bt.ld)
					}
					records += bt.n
				}
				cpu := procstat.ThreadCPU() - t0
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(records), "cpu-ns/record")
			})
		}
	}
}
