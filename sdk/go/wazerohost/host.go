package wazerohost

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of the kit's spans.
const ScopeName = "github.com/sandwatch/sandwatch/sdk/go/wazerohost"

// Host runs WebAssembly plugins in a wazero runtime that gives them WASI
// (no file system, no sockets) and one door to the network: the http_call
// host function, which enforces the allowlist. Every run is a
// plugin.execute span and every call an http_call span under it. A
// plugin that panics, traps, exits non-zero or runs past its deadline is
// recorded and returned as an error; it never takes the host down.
// A Host is safe for concurrent use.
type Host struct {
	cfg    Config
	allow  *Allowlist
	tracer trace.Tracer
	client *http.Client
	rt     wazero.Runtime

	mu       sync.Mutex
	compiled map[[32]byte]wazero.CompiledModule
}

// Plugin is one plugin binary and its identity.
type Plugin struct {
	// ID identifies the plugin in every span (plugin.id); required.
	ID string
	// Version is recorded as plugin.version when set.
	Version string
	// Wasm is the module (a WASI command: its _start runs the plugin).
	Wasm []byte
}

// Result is what a run produced.
type Result struct {
	// Outcome is ok, exit, panic, timeout or error (AttrPluginOutcome).
	Outcome string
	// ExitCode is the guest's exit code (0 unless it exited non-zero).
	ExitCode uint32
	// Stdout and Stderr are what the plugin wrote, up to MaxOutputBytes each.
	Stdout, Stderr []byte
	// TraceID is the trace of the run's plugin.execute span.
	TraceID trace.TraceID
}

// New starts a wazero runtime with WASI and the http_call host module.
func New(ctx context.Context, cfg Config) (*Host, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("wazerohost: %w", err)
	}
	cfg = cfg.withDefaults()
	allow, _ := NewAllowlist(cfg.Allowlist) // validated above
	tp := cfg.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	h := &Host{
		cfg:      cfg,
		allow:    allow,
		tracer:   tp.Tracer(ScopeName),
		compiled: make(map[[32]byte]wazero.CompiledModule),
	}
	h.client = h.guardedClient(cfg.HTTPClient)
	// CloseOnContextDone lets a deadline stop a guest stuck in a loop.
	h.rt = wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().
		WithCloseOnContextDone(true).
		WithMemoryLimitPages(cfg.MemoryLimitMiB*16))
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, h.rt); err != nil {
		_ = h.rt.Close(ctx)
		return nil, fmt.Errorf("wazerohost: WASI: %w", err)
	}
	if err := h.instantiateHostModule(ctx); err != nil {
		_ = h.rt.Close(ctx)
		return nil, fmt.Errorf("wazerohost: host module: %w", err)
	}
	return h, nil
}

// Close releases the runtime and every compiled plugin.
func (h *Host) Close(ctx context.Context) error {
	return h.rt.Close(ctx)
}

// runState is what the http_call host function needs to know about the
// run that called it; it travels in the context wazero hands host
// functions.
type runState struct {
	pluginID string
}

type runKey struct{}

// Run instantiates the plugin and runs its _start with args (argv[0] is
// the plugin id), under a plugin.execute span: the root of a new trace
// linked to any span in ctx (or its child, with Config.ChildOfCaller).
// The returned error is nil only when the plugin exited 0.
func (h *Host) Run(ctx context.Context, p Plugin, args ...string) (res Result, err error) {
	if p.ID == "" {
		return Result{Outcome: OutcomeError}, errors.New("wazerohost: Plugin.ID is required")
	}
	attrs := []attribute.KeyValue{attribute.String(AttrPluginID, p.ID), attribute.String(AttrRuntime, "wazero")}
	if p.Version != "" {
		attrs = append(attrs, attribute.String(AttrPluginVersion, p.Version))
	}
	opts := []trace.SpanStartOption{trace.WithAttributes(attrs...)}
	if !h.cfg.ChildOfCaller {
		opts = append(opts, trace.WithNewRoot())
		if caller := trace.SpanContextFromContext(ctx); caller.IsValid() {
			opts = append(opts, trace.WithLinks(trace.Link{SpanContext: caller}))
		}
	}
	ctx, span := h.tracer.Start(ctx, SpanExecute, opts...)
	defer span.End()
	res.TraceID = span.SpanContext().TraceID()
	stdout, stderr := &capBuffer{max: h.cfg.MaxOutputBytes}, &capBuffer{max: h.cfg.MaxOutputBytes}
	defer func() {
		// A bug in the host (or in wazero) must not take the process down
		// with a plugin: it is that plugin's failed run.
		if r := recover(); r != nil {
			err = fmt.Errorf("wazerohost: plugin %s: host panic: %v", p.ID, r)
			res.Outcome = OutcomePanic
			recordFailure(span, OutcomePanic, "host_panic", err.Error())
		}
		res.Stdout, res.Stderr = stdout.Bytes(), stderr.Bytes()
	}()

	ctx = context.WithValue(ctx, runKey{}, &runState{pluginID: p.ID})
	// Compiling is the host's cost (and cached), not the plugin's: the
	// run's deadline starts after it.
	cm, err := h.compile(ctx, p.Wasm)
	if err != nil {
		res.Outcome = OutcomeError
		err = fmt.Errorf("wazerohost: plugin %s: compile: %w", p.ID, err)
		recordFailure(span, OutcomeError, "load_error", err.Error())
		return res, err
	}
	mc := wazero.NewModuleConfig().
		WithName(""). // anonymous: runs of one plugin may overlap
		WithArgs(append([]string{p.ID}, args...)...).
		WithStdout(stdout).WithStderr(stderr).
		WithSysWalltime().WithSysNanotime().WithSysNanosleep().
		WithRandSource(rand.Reader)
	runCtx, cancel := context.WithTimeout(ctx, h.cfg.RunTimeout)
	defer cancel()
	mod, runErr := h.rt.InstantiateModule(runCtx, cm, mc)
	if mod != nil {
		_ = mod.Close(ctx)
	}
	var code string
	res.Outcome, res.ExitCode, code = classifyRun(runErr, runCtx.Err(), stderr.String())
	span.SetAttributes(attribute.String(AttrPluginOutcome, res.Outcome), attribute.Int64(AttrPluginExitCode, int64(res.ExitCode)))
	if res.Outcome == OutcomeOK {
		return res, nil
	}
	msg := failureMessage(res.Outcome, runErr, stderr.String())
	recordFailure(span, res.Outcome, code, msg)
	return res, fmt.Errorf("wazerohost: plugin %s: %s", p.ID, msg)
}

func (h *Host) compile(ctx context.Context, wasm []byte) (wazero.CompiledModule, error) {
	sum := sha256.Sum256(wasm)
	h.mu.Lock()
	cm, ok := h.compiled[sum]
	h.mu.Unlock()
	if ok {
		return cm, nil
	}
	cm, err := h.rt.CompileModule(ctx, wasm)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if prev, ok := h.compiled[sum]; ok { // a concurrent run compiled it first
		_ = cm.Close(ctx)
		return prev, nil
	}
	h.compiled[sum] = cm
	return cm, nil
}

// classifyRun maps how InstantiateModule returned to an outcome, the exit
// code and the error code recorded as plugin.error.
func classifyRun(runErr, ctxErr error, stderr string) (outcome string, exitCode uint32, code string) {
	if runErr == nil {
		return OutcomeOK, 0, ""
	}
	var exit *sys.ExitError
	if errors.As(runErr, &exit) {
		switch c := exit.ExitCode(); {
		case c == 0:
			return OutcomeOK, 0, ""
		case c == sys.ExitCodeDeadlineExceeded || (c == sys.ExitCodeContextCanceled && errors.Is(ctxErr, context.DeadlineExceeded)):
			return OutcomeTimeout, c, "timeout"
		case c == sys.ExitCodeContextCanceled:
			return OutcomeError, c, "canceled"
		case c == 2 && strings.Contains(stderr, "panic:"):
			// The Go runtime's exit after an unrecovered panic.
			return OutcomePanic, c, "panic"
		default:
			return OutcomeExit, c, "exit_code_" + strconv.FormatUint(uint64(c), 10)
		}
	}
	if errors.Is(ctxErr, context.DeadlineExceeded) {
		return OutcomeTimeout, 0, "timeout"
	}
	// A trap (unreachable, out-of-bounds access...): how Rust, Zig and
	// TinyGo guests panic.
	return OutcomePanic, 0, "panic"
}

func failureMessage(outcome string, runErr error, stderr string) string {
	switch outcome {
	case OutcomeTimeout:
		return "run timed out"
	case OutcomePanic:
		if i := strings.Index(stderr, "panic:"); i >= 0 {
			line := stderr[i:]
			if j := strings.IndexByte(line, '\n'); j >= 0 {
				line = line[:j]
			}
			return clip(line, 512)
		}
	}
	return clip(runErr.Error(), 512)
}

// recordFailure marks the run span failed the way the event model reads
// it: status Error, plugin.error with the code, and an exception event.
func recordFailure(span trace.Span, outcome, code, msg string) {
	span.SetAttributes(attribute.String(AttrPluginOutcome, outcome), attribute.String(AttrPluginError, code))
	span.AddEvent("exception", trace.WithAttributes(
		attribute.String("exception.type", code),
		attribute.String("exception.message", msg)))
	span.SetStatus(codes.Error, msg)
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// capBuffer keeps the first max bytes written to it and drops the rest,
// so a chatty plugin cannot grow the host's memory.
type capBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (c *capBuffer) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := c.max - len(c.b); room > 0 {
		c.b = append(c.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (c *capBuffer) Bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.b...)
}

func (c *capBuffer) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.b)
}
