package traceql

import (
	"errors"
	"strings"
	"testing"
)

// The queries Grafana's Search tab generates (SearchTraceQLEditor/utils.ts:
// one spanset, conditions joined by " && ", no spaces around operators,
// multi-value filters in parentheses) and those the TraceQL documentation
// shows (construct-traceql-queries.md), each with its canonical parse or
// the construct its error must name.
var parseTable = []struct {
	q    string
	want string // canonical form; empty when an error is expected
	err  string // a part of the error message
}{
	// Grafana's query builder.
	{q: `{}`, want: `{}`},
	{q: `{resource.service.name="api" && name="GET /x" && duration>100ms && status=error}`,
		want: `{ (((resource.service.name = "api" && name = "GET /x") && duration > 100ms) && status = error) }`},
	{q: `{traceDuration>100ms}`, want: `{ traceDuration > 100ms }`},
	{q: `{.footag>=1234 && .bartag="barvalue"}`, want: `{ (.footag >= 1234 && .bartag = "barvalue") }`},
	{q: `{(span.x="a" || span.x="b")}`, want: `{ (span.x = "a" || span.x = "b") }`},
	{q: `{(span.x!="a" && span.x!="b")}`, want: `{ (span.x != "a" && span.x != "b") }`},
	{q: `{span.x=~"a|b"}`, want: `{ span.x =~ "a|b" }`},
	{q: `{resource.service.name=~"api|web" && status!=ok}`, want: `{ (resource.service.name =~ "api|web" && status != ok) }`},
	{q: `{duration>=1.5s && duration<=2m}`, want: `{ (duration >= 1.5s && duration <= 2m0s) }`},
	{q: `{span.extension.id="weather-001" && span.sandwatch.anomaly="exfiltration"}`,
		want: `{ (span.extension.id = "weather-001" && span.sandwatch.anomaly = "exfiltration") }`},
	{q: `{kind=server && .http.status_code>=500}`, want: `{ (kind = server && .http.status_code >= 500) }`},
	{q: `{rootServiceName="shop" && rootName="checkout"}`, want: `{ (rootServiceName = "shop" && rootName = "checkout") }`},
	{q: `{statusMessage=~".*timeout.*"}`, want: `{ statusMessage =~ ".*timeout.*" }`},
	// The TraceQL documentation.
	{q: `{ span.http.status_code >= 500 }`, want: `{ span.http.status_code >= 500 }`},
	{q: `{ .attr = "v" }`, want: `{ .attr = "v" }`},
	{q: `{ resource.service.name = "x" && span.http.status_code >= 500 }`, want: `{ (resource.service.name = "x" && span.http.status_code >= 500) }`},
	{q: `{ duration > 1s }`, want: `{ duration > 1s }`},
	{q: `{ status = error }`, want: `{ status = error }`},
	{q: `{ .cloud.region =~ "us-east-1|us-west-1" }`, want: `{ .cloud.region =~ "us-east-1|us-west-1" }`},
	{q: `{ span.http.method = "GET" } && { span.http.status_code = 500 }`, want: `({ span.http.method = "GET" } && { span.http.status_code = 500 })`},
	{q: `{ .a = 1 } || { .b = 2 }`, want: `({ .a = 1 } || { .b = 2 })`},
	{q: `{ resource.service.name = "frontend" } >> { status = error }`, want: `({ resource.service.name = "frontend" } >> { status = error })`},
	{q: `{ .a = 1 } > { .b = 2 }`, want: `({ .a = 1 } > { .b = 2 })`},
	{q: `{ .a = 1 } << { .b = 2 }`, want: `({ .a = 1 } << { .b = 2 })`},
	{q: `{ .a = 1 } < { .b = 2 }`, want: `({ .a = 1 } < { .b = 2 })`},
	{q: `{ .a = 1 } ~ { .b = 2 }`, want: `({ .a = 1 } ~ { .b = 2 })`},
	{q: `({ .a = 1 } || { .b = 2 }) && { .c = 3 }`, want: `(({ .a = 1 } || { .b = 2 }) && { .c = 3 })`},
	{q: `{ .a = 1 } || { .b = 2 } && { .c = 3 }`, want: `({ .a = 1 } || ({ .b = 2 } && { .c = 3 }))`},
	{q: `{ span.http.status_code = 200 } with (most_recent=true)`, want: `{ span.http.status_code = 200 }`},
	{q: `{} with(most_recent=true, sample=0.1)`, want: `{}`},
	{q: `{ span:name = "GET" && span:status = error && span:kind = client && span:duration > 10ms }`,
		want: `{ (((span:name = "GET" && span:status = error) && span:kind = client) && span:duration > 10ms) }`},
	{q: `{ trace:rootService = "a" && trace:rootName = "b" && trace:duration > 1m }`,
		want: `{ ((trace:rootService = "a" && trace:rootName = "b") && trace:duration > 1m0s) }`},
	{q: `{ span:id = "0102030405060708" || trace:id = "0102" }`, want: `{ (span:id = "0102030405060708" || trace:id = "0102") }`},
	{q: `{ span."name with spaces" = "x" }`, want: `{ span."name with spaces" = "x" }`},
	{q: `{ ."k8s.io/app" = "x" }`, want: `{ ."k8s.io/app" = "x" }`},
	{q: "{ .re = `a\\.b` }", want: `{ .re = "a\\.b" }`},
	{q: `{ .x = "tab\tand \"quote\"" }`, want: `{ .x = "tab\tand \"quote\"" }`},
	{q: `{ .x =~ "\d+" }`, want: `{ .x =~ "\\d+" }`},
	{q: `{ .f > 1.5 && .n < -3 && .g != -2.25 }`, want: `{ ((.f > 1.5 && .n < -3) && .g != -2.25) }`},
	{q: `{ .b = true && .c != false }`, want: `{ (.b = true && .c != false) }`},
	{q: `{ .x = nil || .y != nil }`, want: `{ (.x = nil || .y != nil) }`},
	{q: `{ !(.a = 1) && !.b = 2 }`, want: `{ (!.a = 1 && !.b = 2) }`},
	{q: `{ true }`, want: `{ true }`},
	{q: `{ 500 <= .code }`, want: `{ .code >= 500 }`},
	{q: `{ duration > 1h30m }`, want: `{ duration > 1h30m0s }`},
	{q: `{ duration > 100us || duration < 5µs }`, want: `{ (duration > 100µs || duration < 5µs) }`},
	{q: `{ kind = unspecified || kind = internal || kind = producer || kind = consumer }`,
		want: `{ (((kind = unspecified || kind = internal) || kind = producer) || kind = consumer) }`},
	{q: `{ status = unset } ~ { status = ok }`, want: `({ status = unset } ~ { status = ok })`},

	// Refused, each naming the construct.
	{q: ``, err: "empty query"},
	{q: `{ .a = 1 } | count() > 2`, err: "pipeline stage count()"},
	{q: `{ .a = 1 } | select(span.x)`, err: "pipeline stage select()"},
	{q: `{ } | by(resource.service.name)`, err: "pipeline stage by()"},
	{q: `{ } | rate()`, err: "metrics function rate()"},
	{q: `{ status = error } | count_over_time() by (resource.service.name)`, err: "metrics function count_over_time()"},
	{q: `{ } | quantile_over_time(duration, .9)`, err: "metrics function quantile_over_time()"},
	{q: `{ } | { .a = 1 }`, err: "pipelines (| ...)"},
	{q: `{ .a = 1 } !> { .b = 2 }`, err: "operator !> is not supported"},
	{q: `{ .a = 1 } &>> { .b = 2 }`, err: "operator &>> is not supported"},
	{q: `{ event.name = "x" }`, err: "event. scope is not supported"},
	{q: `{ link.traceID = "x" }`, err: "link. scope is not supported"},
	{q: `{ parent.span.x = 1 }`, err: "parent. scope is not supported"},
	{q: `{ instrumentation.name = "x" }`, err: "instrumentation. scope is not supported"},
	{q: `{ event:name = "exception" }`, err: "intrinsic event:name is not supported"},
	{q: `{ childCount > 2 }`, err: "intrinsic childCount is not supported"},
	{q: `{ foo = "x" }`, err: `unknown name "foo"`},
	{q: `{ .a + 1 = 2 }`, err: "arithmetic (+)"},
	{q: `{ .a = .b }`, err: "comparing two fields"},
	{q: `{ 1 = 1 }`, err: "needs a field"},
	{q: `{ status = 2 }`, err: "status compares with a status"},
	{q: `{ status > error }`, err: "supports only = and !="},
	{q: `{ kind = error }`, err: "kind compares with a kind"},
	{q: `{ duration > "1s" }`, err: "compares with a duration"},
	{q: `{ name = 3 }`, err: "compares with a string"},
	{q: `{ name = nil }`, err: "cannot be compared with nil"},
	{q: `{ .a > nil }`, err: "nil compares only"},
	{q: `{ .a =~ 3 }`, err: "needs a string"},
	{q: `{ .a =~ "(" }`, err: "invalid regular expression"},
	{q: `{ .a = "x" `, err: "unexpected end of query"},
	{q: `{ .a = "x }`, err: "unterminated string"},
	{q: "{ .a = `x }", err: "unterminated raw string"},
	{q: `{ .a = 1 } }`, err: `expected end of query`},
	{q: `{ .a }`, err: "a comparison operator after .a"},
	{q: `{ .a = 12abc }`, err: "not a number or a duration"},
	{q: `{ . = 1 }`, err: "attribute name after '.'"},
	{q: `{ .a = 1 & .b = 2 }`, err: "did you mean &&"},
	{q: `count() > 2`, err: "count() outside a pipeline"},
	{q: `{ .a = 1 } with (most_recent)`, err: "'=' after the hint name"},
	{q: `{ .a = 1 } with (x = .y)`, err: "must be a literal"},
	{q: strings.Repeat("(", 100) + "{}" + strings.Repeat(")", 100), err: "nested deeper"},
	{q: strings.Repeat("x", MaxQueryLen+1), err: "longer than"},
}

func TestParseTable(t *testing.T) {
	for _, tc := range parseTable {
		q, err := Parse(tc.q)
		if tc.err != "" {
			var pe *Error
			if err == nil {
				t.Errorf("Parse(%q) = %s, want an error naming %q", tc.q, q, tc.err)
			} else if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Parse(%q) error = %v, want one naming %q", tc.q, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.q, err)
			continue
		}
		if got := q.String(); got != tc.want {
			t.Errorf("Parse(%q) = %s\n want %s", tc.q, got, tc.want)
		}
		// The canonical form reads back to itself.
		again, err := Parse(q.String())
		if err != nil || again.String() != q.String() {
			t.Errorf("re-parse of %s: %v, %v", q, again, err)
		}
	}
}

func TestParseHints(t *testing.T) {
	q, err := Parse(`{} with (most_recent=true, span_sample=0.5)`)
	if err != nil {
		t.Fatal(err)
	}
	if !q.Hints["most_recent"].B || q.Hints["span_sample"].F != 0.5 {
		t.Fatalf("hints = %v", q.Hints)
	}
}

func TestErrorOffsetPointsAtConstruct(t *testing.T) {
	q := `{ .a = 1 } | count() > 2`
	_, err := Parse(q)
	var pe *Error
	if !errors.As(err, &pe) || q[pe.Pos] != '|' {
		t.Fatalf("error %v does not point at the pipe", err)
	}
}

func TestParseField(t *testing.T) {
	for in, want := range map[string]Field{
		"span.http.method":      {Scope: ScopeSpan, Name: "http.method"},
		"resource.service.name": {Scope: ScopeResource, Name: "service.name"},
		".sandwatch.anomaly":    {Scope: ScopeUnscoped, Name: "sandwatch.anomaly"},
		`span."a b"`:            {Scope: ScopeSpan, Name: "a b"},
		"status":                {Scope: ScopeIntrinsic, Name: "status", Intrinsic: IntrinsicStatus},
		"span:kind":             {Scope: ScopeIntrinsic, Name: "span:kind", Intrinsic: IntrinsicKind},
	} {
		got, err := ParseField(in)
		if err != nil || got != want {
			t.Errorf("ParseField(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "foo", "span.x = 1", `"x"`, "event.name", "3"} {
		if _, err := ParseField(bad); err == nil {
			t.Errorf("ParseField(%q) accepted", bad)
		}
	}
}
