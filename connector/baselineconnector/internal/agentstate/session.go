// Package agentstate holds the bounded state the baseline keeps about
// agents that chain tools: one Session per agent session (or trace) with
// its recent reads and egress calls across MCP servers, and one Agent
// profile per acting agent (the servers and tools it uses, the order it
// chains them in, the hosts it reaches). Pure: no pdata, no collector.
package agentstate

import (
	"github.com/cespare/xxhash/v2"
	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/profile"
	"github.com/sandwatch/sandwatch/internal/sandboxevent"
)

// Call is one tool call a session remembers.
type Call struct {
	Server, Tool string // owned, clipped copies
	// Session is the key of the call's session (owned, clipped).
	Session string
	Class   sandboxevent.ToolClass
	// Target is the path template or host ("" when content was not
	// captured).
	Target string
	// Private: a sensitive or never-seen path, or a secrets-class tool.
	Private bool
	// Content: the emitter captured the call's arguments.
	Content bool
	TraceID [16]byte
	SpanID  [8]byte
	// Start orders calls: the span's start (unix ns), or its arrival.
	Start int64
	// Reported: already named by a cross-tool anomaly.
	Reported bool
}

// ring is a bounded list of calls, the oldest overwritten first.
type ring struct {
	calls []Call
	next  int
}

func (r *ring) add(c Call, max int) {
	if max <= 0 {
		return
	}
	if len(r.calls) < max {
		r.calls = append(r.calls, c)
		return
	}
	r.calls[r.next%max] = c
	r.next = (r.next + 1) % max
}

// callKeys is how many call keys a session remembers to count a call
// reported by the agent, the MCP client and the MCP server once.
const callKeys = 32

// Session is one agent session's cross-tool memory.
type Session struct {
	Agent string
	// Reads are recent read- and secrets-class calls; Egress recent
	// egress calls, kept so a read that arrives after its egress (spans
	// of one session come in any order) is still paired.
	Reads, Egress ring
	keys          [callKeys]uint64
	nkeys         int
	// Denials in this session, and whether recon reported them.
	Denials        uint32
	DenialReported bool
}

// latest returns the i-th most recent call (0 = the latest). Until the
// ring is full next stays 0 and the latest is the last appended.
func (r *ring) latest(i int) *Call {
	n := len(r.calls)
	return &r.calls[((r.next-1-i)%n+n)%n]
}

// LatestRead returns the i-th most recent read (0 = the latest), i < len.
func (s *Session) LatestRead(i int) *Call { return s.Reads.latest(i) }

// LatestEgress returns the i-th most recent egress call (0 = the latest).
func (s *Session) LatestEgress(i int) *Call { return s.Egress.latest(i) }

// MarkReported marks the remembered call of (trace, span) reported, in
// reads and egress calls, so a call kept in two scopes is named once.
func (s *Session) MarkReported(trace [16]byte, span [8]byte) {
	for _, r := range []*ring{&s.Reads, &s.Egress} {
		for i := range r.calls {
			if r.calls[i].TraceID == trace && r.calls[i].SpanID == span {
				r.calls[i].Reported = true
			}
		}
	}
}

// ReadCalls returns the remembered reads (shared: do not keep).
func (s *Session) ReadCalls() []Call { return s.Reads.calls }

// EgressCalls returns the remembered egress calls (shared: do not keep).
func (s *Session) EgressCalls() []Call { return s.Egress.calls }

// AddRead remembers a read-class call (strings copied).
func (s *Session) AddRead(c Call, max int) { s.Reads.add(s.own(c), max) }

// AddEgress remembers an egress call (strings copied).
func (s *Session) AddEgress(c Call, max int) { s.Egress.add(s.own(c), max) }

// SeenCall reports whether key was already seen in this session, and
// remembers it. An empty key is never seen.
func (s *Session) SeenCall(key string) bool {
	if key == "" {
		return false
	}
	h := xxhash.Sum64String(key)
	for i := 0; i < s.nkeys && i < callKeys; i++ {
		if s.keys[i] == h {
			return true
		}
	}
	s.keys[s.nkeys%callKeys] = h
	s.nkeys++
	return false
}

// own copies c's strings out of pdata. The names a session's calls
// repeat (its key, the servers and tools it keeps using) are shared with
// the session's latest read or egress call instead of copied again: every
// recorded call used to allocate its four strings. (Go's unique package
// measured worse here: its weak handles cost more than the copies.)
func (s *Session) own(c Call) Call {
	var prev []*Call
	for _, r := range []*ring{&s.Reads, &s.Egress} {
		if len(r.calls) > 0 {
			prev = append(prev, r.latest(0))
		}
	}
	c.Server = ownLike(c.Server, prev, func(p *Call) string { return p.Server })
	c.Tool = ownLike(c.Tool, prev, func(p *Call) string { return p.Tool })
	c.Session = ownLike(c.Session, prev, func(p *Call) string { return p.Session })
	c.Target = Clip(c.Target)
	return c
}

// ownLike returns the owned copy of v one of prev already holds, or a new one.
func ownLike(v string, prev []*Call, field func(*Call) string) string {
	if len(v) > profile.MaxNameLen {
		v = v[:profile.MaxNameLen]
	}
	for _, p := range prev {
		if have := field(p); have == v {
			return have
		}
	}
	return Clip(v)
}

// Clip bounds a name a sender controls and copies it out of pdata.
func Clip(s string) string {
	if len(s) > profile.MaxNameLen {
		s = s[:profile.MaxNameLen]
	}
	return string(append([]byte(nil), s...))
}

// Sessions is a bounded table of sessions, least recently used evicted.
type Sessions struct {
	lru     *simplelru.LRU[string, *Session]
	Evicted uint64
}

// NewSessions holds at most max sessions.
func NewSessions(max int) (*Sessions, error) {
	s := &Sessions{}
	lru, err := simplelru.NewLRU[string, *Session](max, func(string, *Session) { s.Evicted++ })
	if err != nil {
		return nil, err
	}
	s.lru = lru
	return s, nil
}

// Get returns the session of key, creating it (for agent) when absent;
// created reports that.
func (t *Sessions) Get(key, agent string) (s *Session, created bool) {
	if s, ok := t.lru.Get(key); ok {
		return s, false
	}
	s = &Session{Agent: Clip(agent)}
	t.lru.Add(Clip(key), s)
	return s, true
}

// Peek returns the session of key without creating it or touching its
// recency.
func (t *Sessions) Peek(key string) (*Session, bool) { return t.lru.Peek(key) }

// Len is the number of sessions held.
func (t *Sessions) Len() int { return t.lru.Len() }
