package otlppage

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/sandwatch/sandwatch/internal/simulate"
)

// -update rewrites testdata/golden from the current Paginate. The goldens
// in the repository were written by the pager as it was before it was
// reworked for speed (commit c55eeaa): every later pager must cut the
// same inputs into the same bytes.
var update = flag.Bool("update", false, "rewrite testdata/golden from the current Paginate")

// goldenCase is one input (stored as testdata/golden/<name>.in.zst, so
// the test does not depend on how pdata marshals) and the page size it
// is cut at.
type goldenCase struct {
	name   string // testdata/golden/<name>.json: the pages
	input  string // testdata/golden/<input>.in.zst, shared between targets
	target int
	build  func(t *testing.T) []byte // only under -update
}

// goldenPages is what Paginate produced: each page's length and SHA-256
// (byte-for-byte identity), and each item's page.
type goldenPages struct {
	Target   int      `json:"target"`
	Pages    []string `json:"pages"` // "<len> <sha256>"
	ItemPage []int32  `json:"item_page"`
}

func goldenCases() []goldenCase {
	realistic := func(spans int, secrets float64) func(*testing.T) []byte {
		return func(t *testing.T) []byte {
			g := simulate.New(simulate.Options{Seed: 7, Extensions: 200, Noise: simulate.DefaultNoise})
			td, _ := g.Batch(0, spans, time.Unix(1_790_000_000, 0))
			if secrets > 0 {
				simulate.AddSecrets(td, secrets, 7)
			}
			return marshalTraces(t, td)
		}
	}
	return []goldenCase{
		{"simulator-128k", "simulator", 128 << 10, realistic(3000, 0)},
		{"simulator-16k", "simulator", 16 << 10, realistic(3000, 0)},
		{"secret-heavy-128k", "secret-heavy", 128 << 10, realistic(3000, 0.33)},
		{"secret-heavy-512k", "secret-heavy", 512 << 10, realistic(3000, 0.33)},
		{"scopes-schemas", "scopes-schemas", 600, func(t *testing.T) []byte { return marshalTraces(t, scopesAndSchemas()) }},
		{"scopes-schemas-one-page", "scopes-schemas", 1 << 20, func(t *testing.T) []byte { return marshalTraces(t, scopesAndSchemas()) }},
		{"tiny-spans", "tiny-spans", 64, func(t *testing.T) []byte { return marshalTraces(t, tinySpans(300)) }},
		{"huge-span", "huge-span", 32 << 10, func(t *testing.T) []byte { return marshalTraces(t, hugeSpan()) }},
		{"unknown-fields", "unknown-fields", 200, func(*testing.T) []byte { return unknownFields() }},
		{"unknown-fields-one-page", "unknown-fields", 1 << 20, func(*testing.T) []byte { return unknownFields() }},
		{"empty-resources-scopes", "empty-resources-scopes", 100, func(*testing.T) []byte { return emptyParts() }},
		{"logs", "logs", 700, func(t *testing.T) []byte { return marshalLogs(t, someLogs()) }},
		{"logs-one-page", "logs", 1 << 20, func(t *testing.T) []byte { return marshalLogs(t, someLogs()) }},
	}
}

func TestPagesMatchGoldenBytes(t *testing.T) {
	dir := filepath.Join("testdata", "golden")
	for _, c := range goldenCases() {
		t.Run(c.name, func(t *testing.T) {
			in := filepath.Join(dir, c.input+".in.zst")
			out := filepath.Join(dir, c.name+".json")
			if *update {
				writeGoldenInput(t, in, c)
			}
			raw := readGoldenInput(t, in)
			got := runGolden(t, raw, c.target)
			if *update {
				b, err := json.MarshalIndent(got, "", " ")
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(out, append(b, '\n'), 0o644))
				return
			}
			b, err := os.ReadFile(out)
			require.NoError(t, err)
			var want goldenPages
			require.NoError(t, json.Unmarshal(b, &want))
			assert.Equal(t, want, got)
		})
	}
}

// TestPagerReusedAcrossCallsMatchesGolden: a pager kept between calls
// (as the cutter keeps one) cuts every input as a fresh one does.
func TestPagerReusedAcrossCallsMatchesGolden(t *testing.T) {
	if *update {
		t.Skip("goldens being rewritten")
	}
	dir := filepath.Join("testdata", "golden")
	var pg Pager
	for range 2 {
		for _, c := range goldenCases() {
			raw := readGoldenInput(t, filepath.Join(dir, c.input+".in.zst"))
			var want goldenPages
			b, err := os.ReadFile(filepath.Join(dir, c.name+".json"))
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(b, &want))
			got := goldenPages{Target: c.target}
			pos, err := pg.Paginate(raw, c.target, func(p []byte) error {
				sum := sha256.Sum256(p)
				got.Pages = append(got.Pages, pageLine(p, sum))
				return nil
			})
			require.NoError(t, err, c.name)
			got.ItemPage = append([]int32(nil), pos...)
			assert.Equal(t, want, got, c.name)
		}
	}
}

func runGolden(t *testing.T, raw []byte, target int) goldenPages {
	g := goldenPages{Target: target}
	pos, err := Paginate(raw, target, func(p []byte) error {
		sum := sha256.Sum256(p)
		g.Pages = append(g.Pages, pageLine(p, sum))
		return nil
	})
	require.NoError(t, err)
	g.ItemPage = pos
	return g
}

func pageLine(p []byte, sum [32]byte) string {
	return strconv.Itoa(len(p)) + " " + hex.EncodeToString(sum[:])
}

func jsonInt(n int) string { return strconv.Itoa(n) }

func writeGoldenInput(t *testing.T, path string, c goldenCase) {
	enc, err := zstd.NewWriter(nil)
	require.NoError(t, err)
	defer enc.Close()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, enc.EncodeAll(c.build(t), nil), 0o644))
}

func readGoldenInput(t testing.TB, path string) []byte {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	dec, err := zstd.NewReader(nil)
	require.NoError(t, err)
	defer dec.Close()
	raw, err := dec.DecodeAll(b, nil)
	require.NoError(t, err)
	return raw
}

func marshalTraces(t *testing.T, td ptrace.Traces) []byte {
	raw, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	require.NoError(t, err)
	return raw
}

func marshalLogs(t *testing.T, ld plog.Logs) []byte {
	raw, err := (&plog.ProtoMarshaler{}).MarshalLogs(ld)
	require.NoError(t, err)
	return raw
}

// scopesAndSchemas: three resources with schema URLs and dropped
// attribute counts, each of two or three scopes with versions, schema
// URLs and attributes, spans of varied size with events and links.
func scopesAndSchemas() ptrace.Traces {
	td := ptrace.NewTraces()
	for r := range 3 {
		rs := td.ResourceSpans().AppendEmpty()
		rs.SetSchemaUrl("https://opentelemetry.io/schemas/1.2" + jsonInt(r) + ".0")
		rs.Resource().Attributes().PutStr("service.name", "svc-"+jsonInt(r))
		rs.Resource().Attributes().PutInt("process.pid", int64(1000+r))
		rs.Resource().SetDroppedAttributesCount(uint32(r))
		for s := range 2 + r%2 {
			ss := rs.ScopeSpans().AppendEmpty()
			ss.SetSchemaUrl("https://example.com/scope/" + jsonInt(s))
			ss.Scope().SetName("scope-" + jsonInt(s))
			ss.Scope().SetVersion("v" + jsonInt(r) + "." + jsonInt(s))
			ss.Scope().Attributes().PutBool("scoped", true)
			for i := range 4 + s {
				sp := ss.Spans().AppendEmpty()
				sp.SetTraceID(pcommon.TraceID{byte(r), byte(s), byte(i % 3), 9})
				sp.SetSpanID(pcommon.SpanID{byte(r), byte(s), byte(i), 1})
				sp.SetName(strings.Repeat("op", 1+i*7))
				sp.SetStartTimestamp(pcommon.Timestamp(1_790_000_000_000_000_000 + i))
				sp.SetEndTimestamp(pcommon.Timestamp(1_790_000_000_000_100_000 + i))
				sp.Attributes().PutStr("file.path", strings.Repeat("/x", 3+i*11))
				if i%2 == 0 {
					ev := sp.Events().AppendEmpty()
					ev.SetName("event")
					ev.Attributes().PutInt("n", int64(i))
				}
				if i%3 == 0 {
					l := sp.Links().AppendEmpty()
					l.SetTraceID(pcommon.TraceID{1, 2, 3})
				}
			}
		}
	}
	return td
}

// tinySpans: one resource and scope, n spans with nothing but ids, so
// that a small target puts one or two on each page.
func tinySpans(n int) ptrace.Traces {
	td := ptrace.NewTraces()
	ss := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty()
	for i := range n {
		sp := ss.Spans().AppendEmpty()
		sp.SetSpanID(pcommon.SpanID{byte(i), byte(i >> 8), 1})
	}
	return td
}

// hugeSpan: small spans around spans far larger than a page, which then
// get a page of their own.
func hugeSpan() ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "big")
	ss := rs.ScopeSpans().AppendEmpty()
	for i := range 9 {
		sp := ss.Spans().AppendEmpty()
		sp.SetSpanID(pcommon.SpanID{byte(i + 1)})
		sp.SetName("s" + jsonInt(i))
		if i%4 == 1 {
			sp.Attributes().PutStr("http.response.body", strings.Repeat("0123456789abcdef", (100<<10)/16*(1+i%3)))
		}
	}
	return td
}

// unknownFields is a TracesData written by hand with fields OTLP does not
// define (or defines later) at every level, and header fields after the
// scopes and spans: they are copied as they are.
func unknownFields() []byte {
	span := func(id byte, extra bool) []byte {
		var s []byte
		s = protowire.AppendTag(s, 1, protowire.BytesType) // trace_id
		s = protowire.AppendBytes(s, bytes.Repeat([]byte{id}, 16))
		s = protowire.AppendTag(s, 2, protowire.BytesType) // span_id
		s = protowire.AppendBytes(s, bytes.Repeat([]byte{id}, 8))
		s = protowire.AppendTag(s, 5, protowire.BytesType) // name
		s = protowire.AppendString(s, "span-"+string(rune('a'+id)))
		if extra {
			s = protowire.AppendTag(s, 99, protowire.VarintType)
			s = protowire.AppendVarint(s, 12345)
			s = protowire.AppendTag(s, 100, protowire.Fixed32Type)
			s = protowire.AppendFixed32(s, 7)
		}
		return s
	}
	scope := func(name string, ids ...byte) []byte {
		var s []byte
		s = protowire.AppendTag(s, 42, protowire.BytesType) // unknown, before the scope
		s = protowire.AppendString(s, "scope-extension")
		for i, id := range ids {
			s = protowire.AppendTag(s, 2, protowire.BytesType)
			s = protowire.AppendBytes(s, span(id, i%2 == 0))
			if i == 0 {
				// the scope itself between its spans
				var is []byte
				is = protowire.AppendTag(is, 1, protowire.BytesType)
				is = protowire.AppendString(is, name)
				s = protowire.AppendTag(s, 1, protowire.BytesType)
				s = protowire.AppendBytes(s, is)
			}
		}
		s = protowire.AppendTag(s, 3, protowire.BytesType) // schema_url last
		s = protowire.AppendString(s, "https://example.com/s")
		s = protowire.AppendTag(s, 77, protowire.Fixed64Type)
		s = protowire.AppendFixed64(s, 0xfeedface)
		return s
	}
	resource := func(svc string, scopes ...[]byte) []byte {
		var r []byte
		r = protowire.AppendTag(r, 3, protowire.BytesType) // schema_url first
		r = protowire.AppendString(r, "https://opentelemetry.io/schemas/1.30.0")
		for i, sc := range scopes {
			r = protowire.AppendTag(r, 2, protowire.BytesType)
			r = protowire.AppendBytes(r, sc)
			if i == 0 {
				var kv, any, res []byte
				any = protowire.AppendTag(any, 1, protowire.BytesType)
				any = protowire.AppendString(any, svc)
				kv = protowire.AppendTag(kv, 1, protowire.BytesType)
				kv = protowire.AppendString(kv, "service.name")
				kv = protowire.AppendTag(kv, 2, protowire.BytesType)
				kv = protowire.AppendBytes(kv, any)
				res = protowire.AppendTag(res, 1, protowire.BytesType)
				res = protowire.AppendBytes(res, kv)
				r = protowire.AppendTag(r, 1, protowire.BytesType)
				r = protowire.AppendBytes(r, res)
			}
		}
		r = protowire.AppendTag(r, 1000, protowire.VarintType)
		r = protowire.AppendVarint(r, 1)
		return r
	}
	var d []byte
	d = protowire.AppendTag(d, 5, protowire.VarintType) // unknown top-level field: skipped
	d = protowire.AppendVarint(d, 3)
	d = protowire.AppendTag(d, 1, protowire.BytesType)
	d = protowire.AppendBytes(d, resource("one", scope("s1", 1, 2, 3), scope("s2", 4)))
	d = protowire.AppendTag(d, 2, protowire.BytesType) // unknown top-level bytes field: skipped
	d = protowire.AppendString(d, "ignored")
	d = protowire.AppendTag(d, 1, protowire.BytesType)
	d = protowire.AppendBytes(d, resource("two", scope("s3", 5, 6, 7, 8, 9)))
	return d
}

// emptyParts: resources without scopes and scopes without spans between
// ones that have spans (they hold no item, so no page carries them).
func emptyParts() []byte {
	td := ptrace.NewTraces()
	td.ResourceSpans().AppendEmpty().Resource().Attributes().PutStr("service.name", "empty")
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "half")
	rs.ScopeSpans().AppendEmpty().Scope().SetName("no spans")
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("spans")
	for i := range 5 {
		ss.Spans().AppendEmpty().SetSpanID(pcommon.SpanID{byte(i + 1)})
	}
	rs.ScopeSpans().AppendEmpty().Scope().SetName("no spans either")
	td.ResourceSpans().AppendEmpty()
	raw, _ := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	return raw
}

// someLogs: two resources, scopes with schema URLs, records with and
// without trace ids, bodies of varied size.
func someLogs() plog.Logs {
	ld := plog.NewLogs()
	for r := range 2 {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.SetSchemaUrl("https://opentelemetry.io/schemas/1.26.0")
		rl.Resource().Attributes().PutStr("host.name", "h"+jsonInt(r))
		for s := range 2 {
			sl := rl.ScopeLogs().AppendEmpty()
			sl.Scope().SetName("audit-" + jsonInt(s))
			sl.SetSchemaUrl("https://example.com/logs")
			for i := range 6 {
				lr := sl.LogRecords().AppendEmpty()
				if i%2 == 0 {
					lr.SetTraceID(pcommon.TraceID{byte(r), byte(s), byte(i)})
					lr.SetSpanID(pcommon.SpanID{byte(i + 1)})
				}
				lr.SetTimestamp(pcommon.Timestamp(1_790_000_000_000_000_000 + i))
				lr.SetSeverityText("INFO")
				lr.Body().SetStr(strings.Repeat("line ", 1+i*9))
				lr.Attributes().PutStr("event.name", "sandbox.exec")
			}
		}
	}
	return ld
}
