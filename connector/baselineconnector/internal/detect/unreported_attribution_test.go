package detect

import (
	"encoding/hex"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// auditHarness is a learned extension "ext" in process 4242 on sandbox-7.
func auditHarness(t *testing.T) (*harness, Process) {
	h := newHarness(t, func(s *Settings) {
		s.Sensitive = DefaultSensitive()
		s.Detectors.UnreportedAccess.Delay = time.Second
		s.Detectors.UnreportedAccess.MaxCandidates = 3
	})
	h.learn("ext", 5, fsRead("/app/db.sqlite"))
	return h, Process{Host: "sandbox-7", PID: 4242}
}

func (h *harness) judgeAudit() []Anomaly {
	h.now += int64(2 * time.Second)
	h.e.Tick(h.now)
	return h.drain()
}

// Twenty invocations of one process overlap a hidden /etc/shadow open:
// the anomaly names every candidate's trace (bounded), so the analyst can
// open each; a record that names its thread picks the one invocation
// whose spans ran on it.
func TestUnreportedAttributionUnderConcurrency(t *testing.T) {
	h, pr := auditHarness(t)
	start := h.now
	var traces [][16]byte
	for i := 0; i < 20; i++ {
		tid := [16]byte{0xc, byte(i + 1)}
		traces = append(traces, tid)
		h.e.ObserveProcess(pr, "ext", tid, rootSpan, start+int64(i)*ms, start+200*ms, "")
		h.e.ObserveThread(pr, tid, int64(5000+i))
	}
	h.e.ObserveAccess(Access{Host: "sandbox-7", PID: 4242, Exe: "/usr/bin/node", Time: start + 100*ms, Target: "/etc/shadow", Syscall: "openat"}, h.now)
	got := h.judgeAudit()
	require.Len(t, got, 1)
	a := got[0]
	assert.Equal(t, AttributionConcurrent, a.Attribution)
	assert.Equal(t, traces[19], a.TraceID, "the latest started is the record's trace")
	assert.Equal(t, [][16]byte{traces[19], traces[18], traces[17]}, a.Candidates, "bounded by max_candidates")
	assert.Contains(t, a.Observed, "the latest of 20 concurrent invocations")
	assert.Contains(t, a.Observed, hex.EncodeToString(traces[18][:]))
	assert.Contains(t, a.Observed, "and 17 more")

	// Falco's thread.tid (or Tetragon's process.tid) names the thread.
	start = h.now
	for i := 0; i < 20; i++ {
		tid := [16]byte{0xd, byte(i + 1)}
		traces[i] = tid
		h.e.ObserveProcess(pr, "ext", tid, rootSpan, start+int64(i)*ms, start+200*ms, "")
		h.e.ObserveThread(pr, tid, int64(6000+i))
	}
	h.e.ObserveAccess(Access{Host: "sandbox-7", PID: 4242, TID: 6007, Exe: "/usr/bin/node", Time: start + 100*ms, Target: "/etc/shadow", Syscall: "openat", Source: "falco"}, h.now)
	got = h.judgeAudit()
	require.Len(t, got, 1)
	assert.Equal(t, AttributionThread, got[0].Attribution)
	assert.Equal(t, traces[7], got[0].TraceID)
	assert.Empty(t, got[0].Candidates)
	assert.Contains(t, got[0].Observed, "thread 6007")
}

// Stock Falco rules output no proc.pid: the alert is tied to the
// invocation by container.id, else by host and time, and says so; one
// that matches nothing is counted and its rule queued to be logged once.
func TestUnreportedPidlessFalco(t *testing.T) {
	h, pr := auditHarness(t)
	other := Process{Host: "sandbox-9", PID: 77}
	start := h.now
	a, b := [16]byte{0xa}, [16]byte{0xb}
	h.e.ObserveProcess(pr, "ext", a, rootSpan, start, start+100*ms, "")
	h.e.ObserveContainer(pr, "84c0b936c919e1f0a8d6b7c3f1e2d4a5b6c7d8e9f0a1b2c3d4e5f60718293a4b")
	h.e.ObserveProcess(other, "ext", b, rootSpan, start, start+100*ms, "")
	alert := Access{Host: "sandbox-7", Exe: "/bin/event-generator", Time: start + 50*ms, Target: "/etc/shadow", Syscall: "openat",
		ContainerID: "84c0b936c919", Rule: "Read sensitive file untrusted", Source: "falco"}
	h.e.ObserveAccess(alert, h.now)
	got := h.judgeAudit()
	require.Len(t, got, 1)
	assert.Equal(t, a, got[0].TraceID)
	assert.Equal(t, AttributionContainer, got[0].Attribution)
	assert.Contains(t, got[0].Observed, "attributed by container.id, not by pid")

	// No container match: the host and the time window.
	start = h.now
	c := [16]byte{0xc}
	h.e.ObserveProcess(other, "ext", c, rootSpan, start, start+100*ms, "")
	alert.Host, alert.ContainerID, alert.Time = "sandbox-9", "", start+50*ms
	h.e.ObserveAccess(alert, h.now)
	got = h.judgeAudit()
	require.Len(t, got, 1)
	assert.Equal(t, c, got[0].TraceID)
	assert.Equal(t, AttributionHostTime, got[0].Attribution)

	// Another host: nothing to tie it to.
	alert.Host = "build-1"
	h.e.ObserveAccess(alert, h.now)
	h.e.ObserveAccess(alert, h.now)
	assert.Empty(t, h.judgeAudit())
	assert.EqualValues(t, 2, h.e.AuditStats().Uncorrelated)
	assert.Equal(t, []string{"Read sensitive file untrusted"}, h.e.DrainUncorrelatedRules())
	h.e.ObserveAccess(alert, h.now)
	h.judgeAudit()
	assert.Empty(t, h.e.DrainUncorrelatedRules(), "logged once per rule")
}

// The runtime opens its own module file during every invocation and no
// span reports it: seen twice while the extension learns, it is the
// runtime's own after learning. A sensitive file is never learned so.
func TestUnreportedRuntimeLearning(t *testing.T) {
	h := newHarness(t, func(s *Settings) {
		s.Sensitive = DefaultSensitive()
		s.Detectors.UnreportedAccess.Delay = time.Second
	})
	pr := Process{Host: "sandbox-7", PID: 4242}
	invocation := func(hidden ...string) []Anomaly {
		got, tid := h.invoke("ext", fsRead("/app/db.sqlite"))
		h.e.ObserveProcess(pr, "ext", tid, rootSpan, h.now-10*ms, h.now, "/app/db.sqlite")
		for _, p := range hidden {
			h.e.ObserveAccess(Access{Host: "sandbox-7", PID: 4242, Exe: "/usr/bin/node", Time: h.now - 5*ms, Target: p, Syscall: "openat"}, h.now)
		}
		return append(got, h.judgeAudit()...)
	}
	for i := 0; i < 5; i++ { // the learning period
		got := invocation("/usr/lib/node/runtime-module.js", "/root/.ssh/id_rsa")
		assert.Equal(t, []string{TypeUnreportedAccess}, typesOf(ofType(got, TypeUnreportedAccess)), "only the sensitive one, even while learning")
	}
	require.True(t, h.profile("ext").Learned)
	got := ofType(invocation("/usr/lib/node/runtime-module.js", "/app/unexpected.bin"), TypeUnreportedAccess)
	require.Len(t, got, 1, "%v", got)
	assert.Equal(t, "/app/unexpected.bin", got[0].Target)
	got = ofType(invocation("/root/.ssh/id_rsa"), TypeUnreportedAccess)
	require.Len(t, got, 1, "a sensitive target is never learned")
}

// An exec is judged against the sensitive set only; a name relative to
// a directory descriptor is judged as "…/name".
func TestUnreportedExecAndUnresolved(t *testing.T) {
	h, pr := auditHarness(t)
	start := h.now
	h.e.ObserveProcess(pr, "ext", [16]byte{0xe}, rootSpan, start, start+100*ms, "")
	h.e.ObserveAccess(Access{Host: "sandbox-7", PID: 4243, PPID: 4242, Exe: "/usr/bin/git", Exec: true, Time: start + 10*ms, Target: "/usr/bin/git", Syscall: "execve"}, h.now)
	h.e.ObserveAccess(Access{Host: "sandbox-7", PID: 4242, Exe: "/usr/bin/node", Unresolved: true, Time: start + 20*ms, Target: ".aws/credentials", Syscall: "openat"}, h.now)
	h.e.ObserveAccess(Access{Host: "sandbox-7", PID: 4242, Exe: "/usr/bin/node", Unresolved: true, Time: start + 30*ms, Target: "data/x.bin", Syscall: "openat"}, h.now)
	got := h.judgeAudit()
	require.Len(t, got, 1, "%v", got)
	assert.Equal(t, "…/.aws/credentials", got[0].Target)
}

func TestUnreportedConfigBounds(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*UnreportedDetector)
		want   string
	}{
		{"event_wait", func(u *UnreportedDetector) { u.EventWait = 0 }, "detectors.unreported_access.event_wait: must be between 10ms and 1m (got 0s)"},
		{"max_open_events", func(u *UnreportedDetector) { u.MaxOpenEvents = 0 }, "detectors.unreported_access.max_open_events: must be at least 1 (got 0)"},
		{"max_candidates", func(u *UnreportedDetector) { u.MaxCandidates = 100 }, "detectors.unreported_access.max_candidates: must be between 1 and 64 (got 100)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := DefaultDetectors()
			tc.mutate(&d.UnreportedAccess)
			assert.EqualError(t, d.Check(), tc.want)
		})
	}
}

// Two opens in one invocation are one sighting: the runtime's own files
// recur across invocations.
func TestUnreportedRuntimeLearningNeedsTwoInvocations(t *testing.T) {
	h := newHarness(t, func(s *Settings) {
		s.Sensitive = DefaultSensitive()
		s.Detectors.UnreportedAccess.Delay = time.Second
	})
	pr := Process{Host: "sandbox-7", PID: 4242}
	invocation := func(hidden ...string) []Anomaly {
		got, tid := h.invoke("ext", fsRead("/app/db.sqlite"))
		h.e.ObserveProcess(pr, "ext", tid, rootSpan, h.now-10*ms, h.now, "/app/db.sqlite")
		for _, p := range hidden {
			h.e.ObserveAccess(Access{Host: "sandbox-7", PID: 4242, Exe: "/usr/bin/node", Time: h.now - 5*ms, Target: p, Syscall: "openat"}, h.now)
		}
		return append(got, h.judgeAudit()...)
	}
	invocation("/tmp/once.js", "/tmp/once.js")
	for i := 0; i < 4; i++ {
		invocation()
	}
	require.True(t, h.profile("ext").Learned)
	got := ofType(invocation("/tmp/once.js"), TypeUnreportedAccess)
	require.Len(t, got, 1, "seen in one invocation only: not the runtime's own")
}
