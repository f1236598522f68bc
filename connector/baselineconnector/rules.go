package baselineconnector

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl/contexts/ottllog"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl/contexts/ottlspan"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl/ottlfuncs"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
	"go.uber.org/zap"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/detect"
)

var ruleName = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,62}$`)

var builtinTypes = map[string]bool{
	detect.TypeNewDestination: true, detect.TypeNewPath: true, detect.TypeNewTable: true, detect.TypeNewCapability: true,
	detect.TypeVolumeSpike: true, detect.TypeExfiltration: true, detect.TypeRecon: true, detect.TypeDurationOutlier: true,
	detect.TypeCapabilityDenied: true,
}

func (r *RuleConfig) validate() error {
	var errs []error
	if !ruleName.MatchString(r.Name) {
		errs = append(errs, fmt.Errorf("name %q: use lower-case letters, digits, '_', '.', '-' (it becomes anomaly.type)", r.Name))
	} else if builtinTypes[r.Name] {
		errs = append(errs, fmt.Errorf("name %q is a built-in anomaly type; choose another", r.Name))
	}
	if r.Context != "" && r.Context != "span" && r.Context != "log" {
		errs = append(errs, fmt.Errorf("context %q: use span or log", r.Context))
	}
	if r.Severity == "" {
		r.Severity = detect.SeverityWarn
	}
	if err := r.Severity.Check(); err != nil {
		errs = append(errs, err)
	}
	if r.Condition == "" {
		errs = append(errs, errors.New("condition: an OTTL boolean expression is required, e.g. attributes[\"http.url\"] != nil"))
	} else if len(errs) == 0 {
		if _, err := compileRules([]RuleConfig{*r}, nopTelemetry()); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func nopTelemetry() component.TelemetrySettings {
	return component.TelemetrySettings{Logger: zap.NewNop(), MeterProvider: metricnoop.NewMeterProvider(), TracerProvider: tracenoop.NewTracerProvider()}
}

type spanRule struct {
	name     string
	severity detect.Severity
	cond     *ottl.Condition[*ottlspan.TransformContext]
}

type logRule struct {
	name     string
	severity detect.Severity
	cond     *ottl.Condition[*ottllog.TransformContext]
}

// rules are the compiled user rules.
type rules struct {
	spans []spanRule
	logs  []logRule
}

func compileRules(cfg []RuleConfig, tel component.TelemetrySettings) (*rules, error) {
	out := &rules{}
	if len(cfg) == 0 {
		return out, nil
	}
	sp, err := ottlspan.NewParser(ottlfuncs.StandardConverters[*ottlspan.TransformContext](), tel)
	if err != nil {
		return nil, fmt.Errorf("ottl span parser: %w", err)
	}
	lp, err := ottllog.NewParser(ottlfuncs.StandardConverters[*ottllog.TransformContext](), tel)
	if err != nil {
		return nil, fmt.Errorf("ottl log parser: %w", err)
	}
	for _, r := range cfg {
		sev := r.Severity
		if sev == "" {
			sev = detect.SeverityWarn
		}
		if r.Context == "log" {
			c, err := lp.ParseCondition(r.Condition)
			if err != nil {
				return nil, fmt.Errorf("rule %q: condition: %w", r.Name, err)
			}
			out.logs = append(out.logs, logRule{r.Name, sev, c})
			continue
		}
		c, err := sp.ParseCondition(r.Condition)
		if err != nil {
			return nil, fmt.Errorf("rule %q: condition: %w", r.Name, err)
		}
		out.spans = append(out.spans, spanRule{r.Name, sev, c})
	}
	return out, nil
}

// evalSpan calls hit for every rule the span matches; evaluation errors
// count as no match (a rule reading a missing attribute is not an alarm).
func (r *rules) evalSpan(ctx context.Context, rs ptrace.ResourceSpans, ss ptrace.ScopeSpans, span ptrace.Span, hit func(name string, sev detect.Severity)) {
	if len(r.spans) == 0 {
		return
	}
	tc := ottlspan.NewTransformContext(rs, ss, span)
	defer tc.Close()
	for i := range r.spans {
		if ok, err := r.spans[i].cond.Eval(ctx, tc); err == nil && ok {
			hit(r.spans[i].name, r.spans[i].severity)
		}
	}
}

func (r *rules) evalLog(ctx context.Context, rl plog.ResourceLogs, sl plog.ScopeLogs, rec plog.LogRecord, hit func(name string, sev detect.Severity)) {
	if len(r.logs) == 0 {
		return
	}
	tc := ottllog.NewTransformContext(rl, sl, rec)
	defer tc.Close()
	for i := range r.logs {
		if ok, err := r.logs[i].cond.Eval(ctx, tc); err == nil && ok {
			hit(r.logs[i].name, r.logs[i].severity)
		}
	}
}
