package sandboxevent

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unique"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// slot says which field an attribute key feeds and how strongly: a lower
// priority wins.
type slot struct {
	field field
	prio  uint8
}

// Classifier classifies spans and log records. Build it once at start-up
// with New; it is safe for concurrent use and allocates nothing per span
// in the common case.
type Classifier struct {
	keys   map[string]slot // what New builds; scan reads table, built from it
	table  keyTable
	denied []string
	// agents is set when the agents extractor profile is on; sessions is
	// its bounded per-session state (see agentsession.go).
	agents   bool
	sessions *SessionTable
	// model is the config's identity: classifiers built from equal
	// configs classify alike, so a batch scope shares results between
	// them (see batchscope.go).
	model unique.Handle[string]
}

// New builds a Classifier from cfg (which should have been validated).
func New(cfg Config) (*Classifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	profiles := cfg.Profiles
	if len(profiles) == 0 {
		profiles = DefaultProfiles()
	}
	fp, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	c := &Classifier{keys: make(map[string]slot), denied: cfg.DeniedValues, model: unique.Make(string(fp))}
	if len(c.denied) == 0 {
		c.denied = defaultDeniedValues
	}
	var prio [numFields]int
	add := func(m Mapping) error {
		for f, keys := range m.fields() {
			for _, k := range *keys {
				if _, dup := c.keys[k]; dup {
					continue // the first mapping of a key wins
				}
				if prio[f] > 254 {
					return fmt.Errorf("event_model.mapping.%s: too many keys (max 255)", fieldNames[f])
				}
				c.keys[k] = slot{field: field(f), prio: uint8(prio[f])}
				prio[f]++
			}
		}
		return nil
	}
	user := cfg.Mapping
	if err := add(user); err != nil {
		return nil, err
	}
	for _, p := range profiles {
		if extractorProfiles[p] {
			continue
		}
		if err := add(builtinProfiles[p]); err != nil {
			return nil, err
		}
	}
	if slices.Contains(profiles, ProfileAgents) {
		c.agents = true
		c.sessions = NewSessionTable(cfg.AgentSessions)
		for _, k := range agentMarkerKeys {
			if _, dup := c.keys[k]; !dup {
				c.keys[k] = slot{field: fAgent}
			}
		}
	}
	c.table = newKeyTable(c.keys)
	return c, nil
}

// MustNew is New for built-in defaults in tests and tools.
func MustNew(cfg Config) *Classifier {
	c, err := New(cfg)
	if err != nil {
		panic(err)
	}
	return c
}

// Levels order where a value came from: a span's or log record's own
// attributes beat a structured log body, which beats the resource.
const (
	levelRecord uint16 = iota
	levelBody
	levelResource
)

// found holds, per field, the best value seen so far and its rank
// (0 = none; otherwise level*256 + priority + 1, lower wins).
type found struct {
	vals [numFoundFields]pcommon.Value
	rank [numFoundFields]uint16
}

func (c *Classifier) scan(attrs pcommon.Map, level uint16, f *found) {
	if attrs.Len() == 0 {
		return
	}
	for k, v := range attrs.All() {
		s, ok := c.table.get(k)
		if !ok {
			continue
		}
		r := level*256 + uint16(s.prio) + 1
		if cur := f.rank[s.field]; cur == 0 || r < cur {
			f.rank[s.field] = r
			f.vals[s.field] = v
		}
	}
}

// ResourceContext caches what a resource's attributes say, so a batch of
// spans under one resource scans them once.
type ResourceContext struct {
	f found
	// service is the resource's service.name: an MCP server's identity on
	// its own spans, an agent's name on the agent's.
	service string
}

// LoadResource fills rc from a resource's attributes.
func (c *Classifier) LoadResource(attrs pcommon.Map, rc *ResourceContext) {
	rc.f = found{}
	rc.service = ""
	c.scan(attrs, levelResource, &rc.f)
	if c.agents {
		if v, ok := attrs.Get("service.name"); ok {
			rc.service = v.Str()
		}
	}
}

// ClassifySpan classifies span under the resource context rc (which may be
// nil) into ev.
func (c *Classifier) ClassifySpan(span ptrace.Span, rc *ResourceContext, ev *Event) {
	var f found
	if rc != nil {
		f = rc.f
	}
	c.scan(span.Attributes(), levelRecord, &f)
	status := span.Status()
	isErr := status.Code() == ptrace.StatusCodeError
	c.derive(&f, span.Name(), isErr, ev)
	if c.agents && (f.rank[fAgent] != 0 || isAgentSpanName(span.Name())) && c.extractSpan(span, rc, ev) {
		return
	}
	if isErr && ev.ErrorCode == "" {
		ev.ErrorCode = errorCodeFromSpan(span)
	}
}

// ClassifyLog classifies a log record under rc (which may be nil) into ev.
// A structured (map) body is read as attributes of lower priority.
func (c *Classifier) ClassifyLog(rec plog.LogRecord, rc *ResourceContext, ev *Event) {
	var f found
	if rc != nil {
		f = rc.f
	}
	if body := rec.Body(); body.Type() == pcommon.ValueTypeMap {
		c.scan(body.Map(), levelBody, &f)
	}
	c.scan(rec.Attributes(), levelRecord, &f)
	isErr := rec.SeverityNumber() >= plog.SeverityNumberError
	c.derive(&f, rec.EventName(), isErr, ev)
	if c.agents && (f.rank[fAgent] != 0 || isAgentEventName(rec.EventName())) {
		c.extractLog(rec, rc, ev)
	}
}

func valueString(v pcommon.Value) string {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return v.Str()
	case pcommon.ValueTypeBool:
		if v.Bool() {
			return "true"
		}
		return "false"
	case pcommon.ValueTypeEmpty:
		return ""
	default:
		return v.AsString()
	}
}

func valueInt(v pcommon.Value) int64 {
	switch v.Type() {
	case pcommon.ValueTypeInt:
		return v.Int()
	case pcommon.ValueTypeDouble:
		return int64(v.Double())
	case pcommon.ValueTypeStr:
		var n int64
		for _, ch := range []byte(v.Str()) {
			if ch < '0' || ch > '9' || n > 1e6 {
				return 0
			}
			n = n*10 + int64(ch-'0')
		}
		return n
	}
	return 0
}

func (f *found) str(fl field) string {
	if f.rank[fl] == 0 {
		return ""
	}
	return valueString(f.vals[fl])
}

func (c *Classifier) isDenied(decision string) bool {
	for _, d := range c.denied {
		if equalFold(decision, d) {
			return true
		}
	}
	return false
}

func (c *Classifier) derive(f *found, name string, isErr bool, ev *Event) {
	*ev = Event{
		ExtensionID: f.str(fExtensionID),
		BlockType:   f.str(fBlockType),
		URL:         f.str(fURL),
		Operation:   f.str(fOperation),
		Capability:  f.str(fCapability),
		Decision:    f.str(fDecision),
		ErrorCode:   f.str(fErrorCode),
		Query:       f.str(fQuery),
		DBSystem:    f.str(fDBSystem),
	}
	if f.rank[fStatusCode] != 0 {
		ev.StatusCode = valueInt(f.vals[fStatusCode])
	}
	deriveEgress(f, ev)
	path := f.str(fPath)
	table := f.str(fTable)
	dns := f.str(fDNSName)
	command := f.str(fCommand)
	library := f.str(fLibrary)
	host := f.str(fHost)
	if host != "" {
		host = NormalizeHost(host)
	} else if ev.URL != "" {
		host = HostFromURL(ev.URL)
	}

	ev.Kind = c.kindOf(ev, path, table, dns, command, host, library, name)
	switch ev.Kind {
	case KindFS:
		ev.Target, ev.TargetType = path, TargetPath
	case KindHTTP, KindNet:
		ev.Target, ev.TargetType = host, TargetHost
	case KindDNS:
		ev.Target, ev.TargetType = NormalizeHost(dns), TargetHost
	case KindDB:
		ev.Target, ev.TargetType = table, TargetTable
	case KindExec:
		ev.Target, ev.TargetType = executable(command), TargetCommand
	case KindCapability:
		switch {
		case library != "":
			ev.Target, ev.TargetType = library, TargetLibrary
		case host != "":
			ev.Target, ev.TargetType = host, TargetHost
		case path != "":
			ev.Target, ev.TargetType = path, TargetPath
		}
	}
	if ev.Target == "" {
		ev.TargetType = TargetNone
	}

	switch {
	case ev.Decision != "" && c.isDenied(ev.Decision):
		ev.Outcome = OutcomeDenied
	case isErr || ev.ErrorCode != "" || ev.StatusCode >= 400:
		ev.Outcome = OutcomeError
	default:
		ev.Outcome = OutcomeOK
	}
}

func (c *Classifier) kindOf(ev *Event, path, table, dns, command, host, library, name string) Kind {
	if ev.Capability != "" {
		return KindCapability
	}
	if ev.BlockType != "" {
		if k := kindFromBlockType(ev.BlockType); k != KindOther {
			return k
		}
	}
	switch {
	case dns != "":
		return KindDNS
	case table != "" || ev.Query != "" || ev.DBSystem != "":
		return KindDB
	case ev.URL != "" || ev.StatusCode != 0:
		return KindHTTP
	case path != "":
		return KindFS
	case command != "":
		return KindExec
	case library != "":
		return KindCapability
	case host != "":
		if isHTTPMethod(ev.Operation) {
			return KindHTTP
		}
		return KindNet
	}
	return kindFromName(name)
}

// kindFromBlockType reads a host wrapper's block type such as SqlQueryBlock,
// HttpRequestBlock, FileReadBlock or ShellBlock.
func kindFromBlockType(w string) Kind {
	switch {
	case containsFold(w, "dns"):
		return KindDNS
	case containsFold(w, "file"), hasPrefixFold(w, "fs"), containsFold(w, "vfs"):
		return KindFS
	case containsFold(w, "sql"), hasPrefixFold(w, "db"), containsFold(w, "database"), containsFold(w, "query"):
		return KindDB
	case containsFold(w, "http"), containsFold(w, "fetch"):
		return KindHTTP
	case containsFold(w, "shell"), containsFold(w, "exec"), containsFold(w, "command"), containsFold(w, "spawn"):
		return KindExec
	case containsFold(w, "connect"), containsFold(w, "socket"), containsFold(w, "network"):
		return KindNet
	}
	return KindOther
}

// kindFromName is the last resort for a record with no telling attribute:
// only network words are trusted in a span or event name (a name such as
// plugin.execute says nothing about what the plugin did).
func kindFromName(name string) Kind {
	switch {
	case hasPrefixFold(name, "dns"):
		return KindDNS
	case hasPrefixFold(name, "network.connect"), hasPrefixFold(name, "net.connect"), hasPrefixFold(name, "firewall"):
		return KindNet
	}
	return KindOther
}

func isHTTPMethod(m string) bool {
	switch {
	case equalFold(m, "GET"), equalFold(m, "POST"), equalFold(m, "PUT"), equalFold(m, "PATCH"),
		equalFold(m, "DELETE"), equalFold(m, "HEAD"), equalFold(m, "OPTIONS"):
		return true
	}
	return false
}

// executable returns the base name of the program a command line runs.
func executable(command string) string {
	command = trimSpaceLeft(command)
	if i := strings.IndexAny(command, " \t"); i >= 0 {
		command = command[:i]
	}
	if i := strings.LastIndexByte(command, '/'); i >= 0 {
		command = command[i+1:]
	}
	return command
}

// errorCodeFromSpan looks for an errno in the span's exception events and
// status message; it runs only for failed spans without an error-code
// attribute.
func errorCodeFromSpan(span ptrace.Span) string {
	events := span.Events()
	for i := 0; i < events.Len(); i++ {
		ev := events.At(i)
		if ev.Name() != "exception" {
			continue
		}
		attrs := ev.Attributes()
		if v, ok := attrs.Get("exception.type"); ok {
			if code := errnoIn(v.Str()); code != "" {
				return code
			}
		}
		if v, ok := attrs.Get("exception.message"); ok {
			if code := errnoIn(v.Str()); code != "" {
				return code
			}
		}
	}
	return errnoIn(span.Status().Message())
}

func errnoIn(s string) string {
	for _, code := range errnoVocabulary {
		if strings.Contains(s, code) {
			return code
		}
	}
	return ""
}
