package baselineconnector

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/metadata"
	"github.com/sandwatch/sandwatch/internal/simulate"
)

// rig is a connector fed through its factory, with sinks on its outputs.
type rig struct {
	t        testing.TB
	traces   connector.Traces
	logs     connector.Logs
	sink     *consumertest.LogsSink
	msink    *consumertest.MetricsSink
	b        *baseline
	clock    time.Time
	shutdown func()
	tm       connector.Traces
	stopped  bool
}

func newRig(t testing.TB, mutate func(*Config)) *rig {
	return newRigHost(t, mutate, componenttest.NewNopHost())
}

func newRigHost(t testing.TB, mutate func(*Config), host component.Host) *rig {
	cfg := createDefaultConfig().(*Config)
	if mutate != nil {
		mutate(cfg)
	}
	require.NoError(t, cfg.Validate())
	f := NewFactory()
	set := connectortest.NewNopSettings(metadata.Type)
	r := &rig{t: t, sink: new(consumertest.LogsSink), msink: new(consumertest.MetricsSink), clock: time.Unix(1_800_000_000, 0)}
	var err error
	r.traces, err = f.CreateTracesToLogs(context.Background(), set, cfg, r.sink)
	require.NoError(t, err)
	r.tm, err = f.CreateTracesToMetrics(context.Background(), set, cfg, r.msink)
	require.NoError(t, err)
	r.logs, err = f.CreateLogsToLogs(context.Background(), set, cfg, r.sink)
	require.NoError(t, err)
	r.b = r.traces.(*tracesIn).baseline
	r.b.now = func() time.Time { return r.clock }
	require.NoError(t, r.traces.Start(context.Background(), host))
	require.NoError(t, r.tm.Start(context.Background(), host))
	require.NoError(t, r.logs.Start(context.Background(), host))
	r.shutdown = func() {
		require.NoError(t, r.traces.Shutdown(context.Background()))
		require.NoError(t, r.tm.Shutdown(context.Background()))
		require.NoError(t, r.logs.Shutdown(context.Background()))
	}
	t.Cleanup(func() {
		if !r.stopped {
			r.shutdown()
		}
	})
	return r
}

func (r *rig) advance(d time.Duration) { r.clock = r.clock.Add(d) }

func (r *rig) feed(td ptrace.Traces, ld plog.Logs) {
	require.NoError(r.t, r.traces.ConsumeTraces(context.Background(), td))
	if ld.LogRecordCount() > 0 {
		require.NoError(r.t, r.logs.ConsumeLogs(context.Background(), ld))
	}
}

// learn runs n benign invocations of every extension of g.
func (r *rig) learn(g *simulate.Generator, n int) {
	for i := 0; i < n; i++ {
		for e := range g.Extensions() {
			td, ld := g.Invocation(e, r.clock)
			r.feed(td, ld)
		}
		r.advance(10 * time.Millisecond)
	}
}

// record is an emitted anomaly, flattened for assertions.
type record struct {
	Type, Ext, Target, Learning, Severity string
	Count                                 int64
	TraceID                               [16]byte
	SpanID                                [8]byte
	Repeat                                bool
}

func (r *rig) records() []record {
	var out []record
	for _, ld := range r.sink.AllLogs() {
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			sls := ld.ResourceLogs().At(i).ScopeLogs()
			for j := 0; j < sls.Len(); j++ {
				recs := sls.At(j).LogRecords()
				for k := 0; k < recs.Len(); k++ {
					l := recs.At(k)
					a := l.Attributes()
					get := func(k string) string { v, _ := a.Get(k); return v.AsString() }
					c, _ := a.Get(AttrCount)
					_, rep := a.Get(AttrRepeat)
					out = append(out, record{Type: get(AttrType), Ext: get(AttrExt), Target: get(AttrTarget), Learning: get(AttrLearning),
						Severity: l.SeverityText(), Count: c.Int(), TraceID: l.TraceID(), SpanID: l.SpanID(), Repeat: rep})
				}
			}
		}
	}
	return out
}

func (r *rig) reset() { r.sink.Reset() }

// ofType keeps the records of one anomaly type.
func ofType(recs []record, typ string) []record {
	var out []record
	for _, x := range recs {
		if x.Type == typ {
			out = append(out, x)
		}
	}
	return out
}

func types(recs []record) map[string]int {
	m := map[string]int{}
	for _, x := range recs {
		m[x.Type]++
	}
	return m
}

func testSettings() connector.Settings { return connectortest.NewNopSettings(metadata.Type) }
