package simulate

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Options configure a Generator.
type Options struct {
	Seed       uint64
	Extensions int
	// Noise is the level of benign irregularity (see noise.go): 0 is
	// clean traffic, DefaultNoise realistic.
	Noise float64
}

// Generator builds telemetry. It is safe for concurrent use.
type Generator struct {
	mu   sync.Mutex
	rng  *rand.Rand
	exts []Extension
	// noise level and per-extension noisy habits (noise.go).
	noise float64
	nz    []noiseExt
}

// New returns a generator of opts.Extensions extensions (default 20).
func New(opts Options) *Generator {
	if opts.Extensions <= 0 {
		opts.Extensions = 20
	}
	r := rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x5eed))
	g := &Generator{rng: r}
	for i := 0; i < opts.Extensions; i++ {
		g.exts = append(g.exts, newExtension(r, i))
	}
	if opts.Noise > 0 {
		newNoise(g, opts.Noise)
	}
	return g
}

// Extensions returns the simulated extensions.
func (g *Generator) Extensions() []Extension { return g.exts }

// builder accumulates one invocation's spans and logs.
type builder struct {
	g      *Generator
	ext    *Extension
	td     ptrace.Traces
	ld     plog.Logs
	spans  ptrace.SpanSlice
	logs   plog.LogRecordSlice
	trace  pcommon.TraceID
	root   ptrace.Span
	cursor time.Time
	nz     noisy
}

func (g *Generator) newBuilder(ext *Extension, t time.Time) *builder {
	b := &builder{g: g, ext: ext, td: ptrace.NewTraces(), ld: plog.NewLogs(), cursor: t}
	rs := b.td.ResourceSpans().AppendEmpty()
	res := rs.Resource().Attributes()
	ss := rs.ScopeSpans().AppendEmpty()
	switch ext.Style {
	case StyleGoose:
		res.PutStr("service.name", "goose")
		ss.Scope().SetName("goose-extension-runner")
	case StyleSemconv:
		res.PutStr("service.name", "agent-runtime")
		res.PutStr("sandbox.runtime", "isolated-vm")
		ss.Scope().SetName("agent-runtime")
	case StyleWazero:
		res.PutStr("service.name", "serviceradar-agent")
		res.PutStr("plugin.id", ext.ID)
		ss.Scope().SetName("serviceradar/plugins")
	case StyleJS:
		res.PutStr("service.name", "goccia-sandbox")
		res.PutStr("sandbox.script.id", ext.ID)
		ss.Scope().SetName("goccia.runner")
		rl := b.ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("service.name", "goccia-sandbox")
		rl.Resource().Attributes().PutStr("sandbox.script.id", ext.ID)
		sl := rl.ScopeLogs().AppendEmpty()
		sl.Scope().SetName("goccia.audit")
		b.logs = sl.LogRecords()
	}
	b.spans = ss.Spans()
	b.startNoise()
	b.setVersion()
	g.mu.Lock()
	var id [16]byte
	binary.BigEndian.PutUint64(id[:8], g.rng.Uint64())
	binary.BigEndian.PutUint64(id[8:], g.rng.Uint64())
	g.mu.Unlock()
	b.trace = pcommon.TraceID(id)
	b.root = b.spans.AppendEmpty()
	b.root.SetTraceID(b.trace)
	b.root.SetSpanID(b.spanID())
	b.root.SetKind(ptrace.SpanKindServer)
	b.root.SetStartTimestamp(pcommon.NewTimestampFromTime(t))
	switch ext.Style {
	case StyleGoose:
		b.root.SetName("extension.invoke")
	case StyleWazero:
		b.root.SetName("plugin.execute")
	default:
		b.root.SetName("invoke_extension")
	}
	b.setExt(b.root.Attributes())
	return b
}

func (b *builder) intn(n int) int {
	if n <= 0 {
		return 0
	}
	b.g.mu.Lock()
	defer b.g.mu.Unlock()
	return b.g.rng.IntN(n)
}

func (b *builder) spanID() pcommon.SpanID {
	b.g.mu.Lock()
	defer b.g.mu.Unlock()
	var id [8]byte
	binary.BigEndian.PutUint64(id[:], b.g.rng.Uint64()|1)
	return pcommon.SpanID(id)
}

// setExt writes the extension id where this style's host records it.
func (b *builder) setExt(m pcommon.Map) {
	switch b.ext.Style {
	case StyleGoose:
		m.PutStr("extension.id", b.ext.ID)
	case StyleSemconv:
		m.PutStr("sandbox.extension.id", b.ext.ID)
	}
	// wazero and JS carry it on the resource.
	b.spanVersion(m)
}

// jitter returns d scaled by a factor in [0.8, 1.2).
func (b *builder) jitter(d time.Duration) time.Duration {
	return d * time.Duration(80+b.intn(40)) / 100
}

// child appends a child span of the root lasting about d.
func (b *builder) child(name string, d time.Duration) ptrace.Span {
	s := b.spans.AppendEmpty()
	s.SetTraceID(b.trace)
	s.SetSpanID(b.spanID())
	s.SetParentSpanID(b.root.SpanID())
	s.SetKind(ptrace.SpanKindClient)
	s.SetName(name)
	s.SetStartTimestamp(pcommon.NewTimestampFromTime(b.cursor))
	b.cursor = b.cursor.Add(b.scaled(d))
	s.SetEndTimestamp(pcommon.NewTimestampFromTime(b.cursor))
	b.setExt(s.Attributes())
	return s
}

func (b *builder) blockName(block string) string {
	if b.ext.Style == StyleGoose {
		return "extension." + b.ext.ID + "." + block
	}
	return block
}

func (b *builder) fsRead(path string, errno string) ptrace.Span {
	s := b.child(b.blockName("FileReadBlock"), b.jitter(b.ext.BaseDuration/4+time.Millisecond))
	a := s.Attributes()
	switch b.ext.Style {
	case StyleGoose:
		a.PutStr("block.type", "FileReadBlock")
		a.PutStr("fs.operation", "read")
		a.PutStr("fs.path", path)
		if errno != "" {
			a.PutStr("fs.error", errno)
		}
	default:
		s.SetName("open")
		a.PutStr("file.path", path)
		if errno != "" {
			a.PutStr("error.type", errno)
		}
	}
	if errno != "" {
		s.Status().SetCode(ptrace.StatusCodeError)
		s.Status().SetMessage(fmt.Sprintf("%s: open '%s'", errno, path))
	}
	return s
}

func (b *builder) sqlSelect(table string) ptrace.Span {
	q := fmt.Sprintf("SELECT id, payload FROM %s WHERE owner_id = %d LIMIT 50", table, 1000+b.intn(9000))
	s := b.child(b.blockName("SqlQueryBlock"), b.jitter(b.ext.BaseDuration))
	a := s.Attributes()
	switch b.ext.Style {
	case StyleGoose:
		a.PutStr("block.type", "SqlQueryBlock")
		a.PutStr("db.table", table)
		a.PutStr("sql.query", q)
	default:
		s.SetName("SELECT " + table)
		a.PutStr("db.system.name", "sqlite")
		a.PutStr("db.collection.name", table)
		a.PutStr("db.operation.name", "SELECT")
		a.PutStr("db.query.text", q)
	}
	return s
}

func (b *builder) httpCall(method, url string, status int64, denied bool) ptrace.Span {
	d := b.jitter(2 * b.ext.BaseDuration)
	var s ptrace.Span
	switch b.ext.Style {
	case StyleGoose:
		s = b.child(b.blockName("HttpRequestBlock"), d)
		s.Attributes().PutStr("block.type", "HttpRequestBlock")
		s.Attributes().PutStr("http.method", method)
		s.Attributes().PutStr("http.url", url)
		if status > 0 {
			s.Attributes().PutInt("http.status_code", status)
		}
	case StyleWazero:
		s = b.child("http_call", d)
		s.Attributes().PutStr("http_call.method", method)
		s.Attributes().PutStr("http_call.url", url)
		decision := "allowed"
		if denied {
			decision = "denied"
		}
		s.Attributes().PutStr("http_call.allowlist.decision", decision)
		if status > 0 && !denied {
			s.Attributes().PutInt("http_call.status_code", status)
		}
	default:
		s = b.child(method, d)
		s.Attributes().PutStr("http.request.method", method)
		s.Attributes().PutStr("url.full", url)
		if status > 0 {
			s.Attributes().PutInt("http.response.status_code", status)
		}
	}
	if status >= 400 || denied {
		s.Status().SetCode(ptrace.StatusCodeError)
	}
	if b.ext.Style == StyleJS {
		b.capability("fetch", hostOf(url), url, method, !denied)
	}
	return s
}

func hostOf(url string) string {
	for i := 0; i+3 <= len(url); i++ {
		if url[i:i+3] == "://" {
			rest := url[i+3:]
			for j := 0; j < len(rest); j++ {
				if rest[j] == '/' || rest[j] == ':' || rest[j] == '?' {
					return rest[:j]
				}
			}
			return rest
		}
	}
	return ""
}

// capability records a JS-sandbox capability decision as an audit log
// record (JS style) or a span (other styles).
func (b *builder) capability(name, host, url, method string, permitted bool) {
	decision := "permitted"
	if !permitted {
		decision = "denied"
	}
	var attrs pcommon.Map
	if b.ext.Style == StyleJS {
		rec := b.logs.AppendEmpty()
		rec.SetTimestamp(pcommon.NewTimestampFromTime(b.cursor))
		rec.SetObservedTimestamp(pcommon.NewTimestampFromTime(b.cursor))
		rec.SetEventName("sandbox.capability")
		rec.SetTraceID(b.trace)
		rec.SetSpanID(b.root.SpanID())
		rec.Body().SetStr("capability decision")
		if permitted {
			rec.SetSeverityNumber(plog.SeverityNumberInfo)
		} else {
			rec.SetSeverityNumber(plog.SeverityNumberWarn)
		}
		attrs = rec.Attributes()
	} else {
		s := b.child("capability."+name, 100*time.Microsecond)
		attrs = s.Attributes()
	}
	attrs.PutStr("capability.name", name)
	attrs.PutStr("capability.decision", decision)
	switch name {
	case "fetch":
		attrs.PutStr("capability.phase", "dispatch")
		attrs.PutStr("fetch.host", host)
		attrs.PutStr("fetch.url", url)
		attrs.PutStr("fetch.method", method)
	case "ffi.open":
		attrs.PutStr("ffi.library", host)
	}
}

func (b *builder) finish(extra time.Duration) (ptrace.Traces, plog.Logs) {
	b.cursor = b.cursor.Add(extra + time.Millisecond)
	b.root.SetEndTimestamp(pcommon.NewTimestampFromTime(b.cursor))
	return b.td, b.ld
}

// ownPath returns one of the extension's own paths with a fresh number.
func (b *builder) ownPath() string {
	p := b.ext.Paths[b.intn(len(b.ext.Paths))]
	return fmt.Sprintf(p, 1+b.intn(500))
}

// benign writes the extension's habitual work into b.
func (b *builder) benign(selects int) {
	e := b.ext
	if e.Style == StyleJS && b.intn(4) == 0 {
		b.capability("ffi.open", e.Library, "", "", true)
	}
	for i := 0; i < e.Reads; i++ {
		b.fsRead(b.ownPath(), "")
	}
	for i := 0; i < selects; i++ {
		b.sqlSelect(e.Tables[b.intn(len(e.Tables))])
	}
	for i := 0; i < e.Calls; i++ {
		method := "GET"
		if e.Posts && i == e.Calls-1 {
			method = "POST"
		}
		b.call(method)
	}
	b.noiseExtras()
}

func (b *builder) selects() int {
	return b.ext.SelectsMin + b.intn(b.ext.SelectsMax-b.ext.SelectsMin+1)
}

// Invocation returns one benign invocation of extension ext starting at t.
func (g *Generator) Invocation(ext int, t time.Time) (ptrace.Traces, plog.Logs) {
	b := g.newBuilder(&g.exts[ext%len(g.exts)], t)
	b.benign(b.selects())
	return b.finish(0)
}
