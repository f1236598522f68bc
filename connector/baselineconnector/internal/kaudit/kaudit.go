// Package kaudit reads the kernel's record of what a process did, for the
// baseline's unreported_access cross-check: auditd's own log format (raw
// and enriched, node= prefixes, ausearch output, lines carried by syslog
// or journald), Falco JSON alerts and Tetragon's JSON export. It yields
// file opens, execs and connects with the host, process, thread where
// known, and executable. Pure: log records in, accesses out.
//
// An auditd line reaches it as the raw body of a file_log record (no
// operators): the reader splits auditd's format itself, because a
// generic key=value splitter loses what auditd writes (the enriched
// format's 0x1D separator and SADDR={ ... } braces, hex names, values
// ending in a backslash). Events are joined by serial in any record
// order and closed by EOE, by the next complete event, or after a
// bounded wait.
package kaudit

import (
	"encoding/json"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/detect"
)

// maxJSON bounds a body decoded as JSON here (a Falco alert or Tetragon
// event read by file_log without a json_parser).
const maxJSON = 1 << 20

// Parser reads log records. Not safe for concurrent use.
type Parser struct {
	auditd *Reader
	// KeyValueParsed counts auditd records that arrive already split
	// into attributes by a key_value_parser (the config before this
	// reader): they are not read, since the split lost what they said;
	// the connector warns once.
	KeyValueParsed uint64
	// Falco and Tetragon: events read, and those of kinds the
	// cross-check does not read.
	Falco, Tetragon, StructuredIgnored uint64
}

// New returns a Parser.
func New(cfg Config) *Parser { return &Parser{auditd: NewReader(cfg)} }

// Reader is the auditd reader behind p (its counters).
func (p *Parser) Reader() *Reader { return p.auditd }

// Parse reads one log record (with its resource) and calls emit for each
// access it completes; it reports whether the record was a kernel audit
// record at all, so that it is not read as a sandbox event.
func (p *Parser) Parse(res pcommon.Map, rec plog.LogRecord, now int64, emit func(detect.Access)) bool {
	attrs := rec.Attributes()
	body := rec.Body()
	at := int64(rec.Timestamp())
	if at == 0 {
		at = int64(rec.ObservedTimestamp())
	}
	host := str(res, "host.name")
	switch body.Type() {
	case pcommon.ValueTypeMap:
		if p.structured(res, body.Map(), at, now, emit) {
			return true
		}
	case pcommon.ValueTypeStr:
		s := body.Str()
		if strings.HasPrefix(s, "{") && len(s) <= maxJSON && looksKernelJSON(s) {
			var raw map[string]any
			if json.Unmarshal([]byte(s), &raw) == nil {
				m := pcommon.NewMap()
				if m.FromRaw(raw) == nil && p.structured(res, m, at, now, emit) {
					return true
				}
			}
		} else if p.auditd.Line(s, host, at, now, emit) {
			return true
		}
	}
	if p.structured(res, attrs, at, now, emit) {
		return true
	}
	if t, ok := attrs.Get("type"); ok && isTypeName(t.AsString()) {
		if m, ok := attrs.Get("msg"); ok && strings.HasPrefix(m.AsString(), "audit(") {
			p.KeyValueParsed++
			return true
		}
	}
	return false
}

// looksKernelJSON: a JSON body worth decoding here (file_log without a
// json_parser; its log.file.name attribute is set either way) names one
// of the event kinds read below. Other JSON bodies (a sandbox host's own
// logs) are not decoded twice.
func looksKernelJSON(s string) bool {
	return strings.Contains(s, `"output_fields"`) || strings.Contains(s, `"process_`) || strings.Contains(s, `"_TRANSPORT"`)
}

// structured reads a JSON event (a json_parser's attributes or body):
// journald's export of an audit record, a Falco alert, a Tetragon event.
func (p *Parser) structured(res, m pcommon.Map, at, now int64, emit func(detect.Access)) bool {
	if m.Len() == 0 {
		return false
	}
	if v, ok := m.Get("output_fields"); ok && v.Type() == pcommon.ValueTypeMap {
		p.Falco++
		if !falco(res, m, v.Map(), emit) {
			p.StructuredIgnored++
		}
		return true
	}
	if k, ok := m.Get("process_kprobe"); ok && k.Type() == pcommon.ValueTypeMap {
		p.Tetragon++
		if !tetragonKprobe(res, m, k.Map(), emit) {
			p.StructuredIgnored++
		}
		return true
	}
	if e, ok := m.Get("process_exec"); ok && e.Type() == pcommon.ValueTypeMap {
		p.Tetragon++
		if !tetragonExec(res, m, e.Map(), emit) {
			p.StructuredIgnored++
		}
		return true
	}
	if c, ok := m.Get("process_connect"); ok && c.Type() == pcommon.ValueTypeMap {
		p.Tetragon++
		if !tetragonConnect(res, m, c.Map(), emit) {
			p.StructuredIgnored++
		}
		return true
	}
	for _, k := range tetragonOther {
		if _, ok := m.Get(k); ok {
			p.Tetragon++
			p.StructuredIgnored++
			return true
		}
	}
	if str(m, "_TRANSPORT") == "audit" {
		if line, ok := journaldLine(res, m); ok {
			p.auditd.Line(line, "", at, now, emit)
		} else {
			p.auditd.Stats.count("unparsed")
		}
		return true
	}
	return false
}

// Flush closes the auditd events that waited long enough.
func (p *Parser) Flush(now int64, emit func(detect.Access)) { p.auditd.Flush(now, emit) }

func str(m pcommon.Map, k string) string {
	if v, ok := m.Get(k); ok {
		return v.AsString()
	}
	return ""
}

func num(m pcommon.Map, k string) int64 {
	v, ok := m.Get(k)
	if !ok {
		return 0
	}
	switch v.Type() {
	case pcommon.ValueTypeInt:
		return v.Int()
	case pcommon.ValueTypeDouble:
		return int64(v.Double())
	case pcommon.ValueTypeStr:
		var n int64
		s := strings.TrimSpace(v.Str())
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c < '0' || c > '9' || n > 1<<40 {
				return 0
			}
			n = n*10 + int64(c-'0')
		}
		return n
	}
	return 0
}

// path walks nested maps: path(m, "process", "pod", "container").
func sub(m pcommon.Map, keys ...string) (pcommon.Map, bool) {
	for _, k := range keys {
		v, ok := m.Get(k)
		if !ok || v.Type() != pcommon.ValueTypeMap {
			return pcommon.Map{}, false
		}
		m = v.Map()
	}
	return m, true
}

// containerID strips a runtime prefix (docker://, containerd://) so
// Falco's short ids and the spans' full ones compare by prefix.
func containerID(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if s == "host" || s == "<NA>" {
		return ""
	}
	return s
}
