package classifyonceprocessor

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/sandboxevent"
)

// scoper opens a batch scope around the rest of the pipeline. It is not
// built on processorhelper: the helper passes its caller's context
// downstream, and the scope has to travel in the context.
type scoper struct {
	component.StartFunc
	component.ShutdownFunc
	max int
	tel *telemetry
}

// It only reads (and not even that: the consumers do).
func (scoper) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

// around runs next inside a scope and publishes what the scope did. The
// scope is closed when next returns, so its results never outlive the
// batch: a consumer that keeps a batch past its return (a queue) holds
// pdata, never the scope.
func (s *scoper) around(ctx context.Context, batch any, next func(context.Context) error) error {
	sctx, scope := sandboxevent.NewBatchScope(ctx, batch, s.max)
	err := next(sctx)
	s.tel.record(ctx, scope.Close())
	return err
}

type tracesScope struct {
	scoper
	next consumer.Traces
}

func (p *tracesScope) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
	return p.around(ctx, td, func(ctx context.Context) error { return p.next.ConsumeTraces(ctx, td) })
}

type logsScope struct {
	scoper
	next consumer.Logs
}

func (p *logsScope) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	return p.around(ctx, ld, func(ctx context.Context) error { return p.next.ConsumeLogs(ctx, ld) })
}
