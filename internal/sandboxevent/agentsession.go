package sandboxevent

import (
	"encoding/hex"
	"fmt"
	"strings"
	"sync"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Per-session identity for emitters whose tool spans do not name their
// server. @traceloop/instrumentation-mcp 0.27.0 opens one
// `mcp.client.session` span per client connection and parents every
// request span of that connection on it; only the `initialize.mcp` span's
// output (`serverInfo.name`) says which server the connection talks to.
// SessionTable remembers, per session span (trace ID + span ID), the
// server that initialize named, so that the tool spans of the session are
// attributed to it.
//
// Bounds: at most SessionConfig.MaxSessions sessions are remembered; the
// oldest learned is forgotten first (a FIFO ring). A session that outlives
// MaxSessions newer sessions loses its identity: its later tool spans
// classify as AwaitingSession and, once a consumer's wait expires,
// unattributed.
//
// Order: EachSpan learns every initialize span of a batch before it
// classifies the batch, so order within a batch does not matter. A tool
// span that arrives in an earlier batch than its session's initialize
// (two exporters, a retry) is marked AgentInfo.AwaitingSession; the
// consumer may hold it and classify it again (sandbox_metrics holds such
// spans for up to its agent_session_wait, see its README).

// SessionConfig bounds the per-session state of the agents profile.
type SessionConfig struct {
	// MaxSessions is how many session identities are remembered
	// (default 16384; about 100 bytes each).
	MaxSessions int `mapstructure:"max_sessions"`
}

const defaultMaxSessions = 16384

// Validate rejects a negative bound.
func (c *SessionConfig) Validate() error {
	if c.MaxSessions < 0 {
		return fmt.Errorf("event_model.agent_sessions.max_sessions: must be >= 0 (0 means %d), got %d", defaultMaxSessions, c.MaxSessions)
	}
	return nil
}

type sessionKey struct {
	trace pcommon.TraceID
	span  pcommon.SpanID
}

type sessionEntry struct {
	server string // serverInfo.name, owned
	id     string // the session span ID in hex, the AgentInfo.Session value
}

// SessionTable is safe for concurrent use.
type SessionTable struct {
	max  int
	mu   sync.Mutex
	m    map[sessionKey]sessionEntry
	ring []sessionKey
	next int
}

// NewSessionTable returns an empty table bounded by cfg.
func NewSessionTable(cfg SessionConfig) *SessionTable {
	n := cfg.MaxSessions
	if n == 0 {
		n = defaultMaxSessions
	}
	return &SessionTable{max: n, m: make(map[sessionKey]sessionEntry, min(n, 1024)), ring: make([]sessionKey, 0, min(n, 1024))}
}

// Len is the number of sessions remembered.
func (t *SessionTable) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}

// learn records that the session span (trace, span) talks to server.
func (t *SessionTable) learn(trace pcommon.TraceID, span pcommon.SpanID, server string) {
	k := sessionKey{trace, span}
	t.mu.Lock()
	defer t.mu.Unlock()
	if e, ok := t.m[k]; ok && e.server == server {
		return
	}
	if _, ok := t.m[k]; !ok {
		if len(t.ring) < t.max {
			t.ring = append(t.ring, k)
		} else {
			delete(t.m, t.ring[t.next])
			t.ring[t.next] = k
			t.next = (t.next + 1) % t.max
		}
	}
	t.m[k] = sessionEntry{server: strings.Clone(server), id: hex.EncodeToString(span[:])}
}

// lookup returns the server of a session span, if learned.
func (t *SessionTable) lookup(trace pcommon.TraceID, span pcommon.SpanID) (sessionEntry, bool) {
	t.mu.Lock()
	e, ok := t.m[sessionKey{trace, span}]
	t.mu.Unlock()
	return e, ok
}

// LearnSessions records the session identities that td's Traceloop
// initialize spans carry. EachSpan calls it first; a consumer that
// classifies span by span calls it per batch.
func (c *Classifier) LearnSessions(td ptrace.Traces) {
	if !c.agents {
		return
	}
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				if span := spans.At(k); span.Name() == traceloopInitialize {
					c.learnInitialize(span)
				}
			}
		}
	}
}

// learnInitialize reads serverInfo.name from an initialize span's output
// and remembers it for the span's parent (the session span).
func (c *Classifier) learnInitialize(span ptrace.Span) string {
	v, ok := span.Attributes().Get("traceloop.entity.output")
	if !ok || span.ParentSpanID().IsEmpty() {
		return ""
	}
	server := serverInfoName(v.Str())
	if server != "" {
		c.sessions.learn(span.TraceID(), span.ParentSpanID(), server)
	}
	return server
}

// serverInfoName reads serverInfo.name from an initialize result.
func serverInfoName(output string) string {
	var name string
	walkJSON(output, func(parent, key, str string, isStr bool) bool {
		if isStr && key == "name" && parent == "serverInfo" {
			name = str
			return false
		}
		return true
	})
	return name
}
