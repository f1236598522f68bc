package detect

import (
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/profile"
	"github.com/sandwatch/sandwatch/internal/sandboxevent"
)

func TestTemplateHost(t *testing.T) {
	for in, want := range map[string]string{
		"d1x2y3z4abcd.cloudfront.net":               "*.cloudfront.net",
		"dxiyfbemrqspar.cloudfront.net":             "*.cloudfront.net", // random, no digit
		"server-13-32-99-12.fra56.r.cloudfront.net": "*.*.r.cloudfront.net",
		"eu-west-1.api.example.com":                 "*.api.example.com",
		"api.example.com":                           "api.example.com",
		"notifications.example.com":                 "notifications.example.com",
		"upload.drop-123.io":                        "upload.drop-123.io", // the registrable domain stays
		"shard7.db.example.co.uk":                   "*.db.example.co.uk",
		"example7.co.uk":                            "example7.co.uk",
		"10.0.0.5":                                  "10.0.0.5",
		"fd00:ec2::254":                             "fd00:ec2::254",
		"localhost":                                 "localhost",
		"":                                          "",
	} {
		assert.Equal(t, want, TemplateHost(in), in)
	}
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = TemplateHost("api.weather.example.com") }), "no allocation when nothing rotates")
}

func egressReq(method, host string, bytes int64) sandboxevent.Event {
	ev := httpReq(method, host)
	ev.EgressBytes = bytes
	return ev
}

func TestEgressVolume(t *testing.T) {
	t.Run("learned per invocation", func(t *testing.T) {
		h := newHarness(t, nil)
		for i := 0; i < 30; i++ {
			got, _ := h.invoke("ext", egressReq("POST", "api.example.com", int64(8000+i*100)))
			require.Empty(t, got)
		}
		got, _ := h.invoke("ext", egressReq("POST", "api.example.com", 30000), egressReq("POST", "api.example.com", 30000))
		assert.Empty(t, got, "a few times the usual bytes stays under the 1 MiB floor")
		got, tid := h.invoke("ext", egressReq("POST", "api.example.com", 150<<20))
		ev := ofType(got, TypeEgressVolume)
		require.Len(t, ev, 1, "%v", got)
		assert.Equal(t, "invocation", ev[0].Target)
		assert.Equal(t, tid, ev[0].TraceID)
		assert.Equal(t, SeverityError, ev[0].Severity)
		assert.Contains(t, ev[0].Observed, "150.0 MiB sent in one invocation")
		assert.Less(t, h.profile("ext").Egress.Mean, 20000.0, "the spike did not move the baseline")
		assert.True(t, h.profile("ext").WinReported, "nor will its window move the per-window baseline")
	})
	t.Run("declared caps from the first invocation", func(t *testing.T) {
		h := newHarness(t, func(s *Settings) {
			s.Declared = map[string]*profile.DeclaredSpec{"ext": {MaxEgressBytesPerInvocation: 1 << 20, MaxEgressBytesPerMinute: 3 << 20}}
		})
		got, _ := h.invoke("ext", egressReq("PUT", "bucket.example.com", 2<<20))
		require.Equal(t, []string{TypeEgressVolume}, typesOf(got))
		assert.Contains(t, got[0].Expected, "max_egress_bytes_per_invocation")
		assert.True(t, got[0].Learning)
		got, _ = h.invoke("ext", egressReq("PUT", "bucket.example.com", 900<<10))
		assert.Empty(t, got, "3 MiB in the minute so far: at the cap, not above")
		got, _ = h.invoke("ext", egressReq("PUT", "bucket.example.com", 900<<10))
		require.Equal(t, []string{TypeEgressVolume}, typesOf(got))
		assert.Equal(t, "window", got[0].Target)
		assert.Contains(t, got[0].Expected, "max_egress_bytes_per_minute")
		got, _ = h.invoke("ext", egressReq("PUT", "bucket.example.com", 900<<10))
		assert.Empty(t, got, "once per window")
		h.now += int64(time.Minute)
		got, _ = h.invoke("ext", egressReq("PUT", "bucket.example.com", 900<<10))
		assert.Empty(t, got, "a new window")
	})
	t.Run("learned per window", func(t *testing.T) {
		h := newHarness(t, nil)
		for i := 0; i < 30; i++ { // 30 windows of about 20 KiB
			h.learn("ext", 2, egressReq("POST", "api.example.com", 10<<10))
			h.now += int64(time.Minute)
		}
		var got []Anomaly
		for i := 0; i < 10; i++ { // 10 x 900 KiB in one minute: no invocation is remarkable, the minute is
			a, _ := h.invoke("ext", egressReq("POST", "api.example.com", 900<<10))
			got = append(got, a...)
		}
		win := 0
		for _, a := range ofType(got, TypeEgressVolume) {
			if a.Target == "window" {
				win++
			}
		}
		assert.Equal(t, 1, win, "%v", got)
	})
}

// A sensitive read in one trace and egress to a new host in a later one.
func TestExfiltrationAcrossInvocations(t *testing.T) {
	setup := func(t *testing.T, mutate func(*Settings)) *harness {
		h := newHarness(t, func(s *Settings) {
			s.Sensitive = DefaultSensitive()
			if mutate != nil {
				mutate(s)
			}
		})
		h.learn("ext", 5, fsRead("/srv/data.json"), httpReq("POST", "api.example.com"))
		return h
	}
	t.Run("within the horizon", func(t *testing.T) {
		h := setup(t, nil)
		got, readTrace := h.invoke("ext", fsRead("/srv/data.json"), fsRead("/home/agent/.ssh/id_rsa"))
		assert.Equal(t, []string{TypeNewPath}, typesOf(got))
		h.now += int64(10 * time.Minute)
		got, sendTrace := h.invoke("ext", httpReq("POST", "paste.evil.io"))
		ex := ofType(got, TypeExfiltration)
		require.Len(t, ex, 1, "%v", got)
		assert.Equal(t, sendTrace, ex[0].TraceID)
		assert.Contains(t, ex[0].Observed, "read /home/agent/.ssh/id_rsa in trace "+hex.EncodeToString(readTrace[:]))
		assert.Contains(t, ex[0].Observed, "POST to paste.evil.io in trace "+hex.EncodeToString(sendTrace[:]))
		got, _ = h.invoke("ext", httpReq("POST", "paste2.evil.io"))
		assert.Empty(t, ofType(got, TypeExfiltration), "a read is named once")
	})
	t.Run("beyond the horizon", func(t *testing.T) {
		h := setup(t, nil)
		h.invoke("ext", fsRead("/home/agent/.ssh/id_rsa"))
		h.now += int64(61 * time.Minute)
		got, _ := h.invoke("ext", httpReq("POST", "paste.evil.io"))
		assert.Equal(t, []string{TypeNewDestination}, typesOf(got))
	})
	t.Run("usual reads are not remembered", func(t *testing.T) {
		h := setup(t, nil)
		h.invoke("ext", fsRead("/srv/data.json"))
		got, _ := h.invoke("ext", httpReq("POST", "paste.evil.io"))
		assert.Equal(t, []string{TypeNewDestination}, typesOf(got))
	})
	t.Run("memory at the cap", func(t *testing.T) {
		h := setup(t, func(s *Settings) { s.Detectors.Exfiltration.MaxReads = 4 })
		var traces [][16]byte
		for i := 0; i < 10; i++ { // ten new templates, one per invocation
			_, tid := h.invoke("ext", fsRead(fmt.Sprintf("/srv/new-dir-%c/x.json", 'a'+i)))
			traces = append(traces, tid)
		}
		p := h.profile("ext")
		assert.Equal(t, 4, p.Reads.Len(), "bounded by max_reads")
		got, _ := h.invoke("ext", httpReq("POST", "paste.evil.io"))
		ex := ofType(got, TypeExfiltration)
		require.Len(t, ex, 1)
		assert.Contains(t, ex[0].Observed, hex.EncodeToString(traces[9][:]), "the latest read is named")
		for i := 0; i < 3; i++ {
			got, _ = h.invoke("ext", httpReq("POST", fmt.Sprintf("paste%d.evil.io", i)))
			require.Len(t, ofType(got, TypeExfiltration), 1)
			assert.Contains(t, ofType(got, TypeExfiltration)[0].Observed, hex.EncodeToString(traces[8-i][:]))
		}
		got, _ = h.invoke("ext", httpReq("POST", "paste9.evil.io"))
		assert.Empty(t, ofType(got, TypeExfiltration), "the six oldest reads were forgotten at the cap")
	})
}

func TestVersionRelearn(t *testing.T) {
	h := newHarness(t, func(s *Settings) { s.VersionRelearn = 3; s.TemplateHosts = true })
	v := func(ev sandboxevent.Event, version string) sandboxevent.Event { ev.Version = version; return ev }
	h.learn("ext", 5, v(httpReq("GET", "api.example.com"), "1.0"))
	got, _ := h.invoke("ext", v(httpReq("GET", "api.example.com"), "1.1"), v(httpReq("GET", "telemetry.example.com"), "1.1"))
	assert.Empty(t, got, "an update adds a host in a known domain quietly")
	got, _ = h.invoke("ext", v(httpReq("GET", "time.google.com"), "1.1"))
	assert.Equal(t, []string{TypeNewDestination}, typesOf(got), "a new domain is still reported")
	h.learn("ext", 3, v(httpReq("GET", "telemetry.example.com"), "1.1"))
	got, _ = h.invoke("ext", v(httpReq("GET", "status.example.com"), "1.1"))
	assert.Equal(t, []string{TypeNewDestination}, typesOf(got), "the window closed")
	got, _ = h.invoke("ext", v(httpReq("GET", "api.example.com"), "1.0"), v(httpReq("GET", "auth.example.com"), "1.0"))
	assert.Equal(t, []string{TypeNewDestination}, typesOf(got), "returning to a known version opens nothing")
	assert.Equal(t, []string{"1.0", "1.1"}, h.profile("ext").Versions)
}

func TestHostTemplatingInProfiles(t *testing.T) {
	h := newHarness(t, func(s *Settings) { s.TemplateHosts = true })
	for i := 0; i < 5; i++ {
		got, _ := h.invoke("ext", httpReq("GET", fmt.Sprintf("d%dabc.cloudfront.net", i)), httpReq("GET", fmt.Sprintf("%s.api.example.com", []string{"eu-west-1", "us-east-1"}[i%2])))
		require.Empty(t, got)
	}
	got, _ := h.invoke("ext", httpReq("GET", "dqwrtzpsdfghjk.cloudfront.net"), httpReq("GET", "ap-south-1.api.example.com"))
	assert.Empty(t, got, "rotating names are known by their template")
	got, _ = h.invoke("ext", httpReq("GET", "api.evil.io"))
	assert.Equal(t, []string{TypeNewDestination}, typesOf(got))
}

func TestUnreportedAccess(t *testing.T) {
	h := newHarness(t, func(s *Settings) {
		s.Sensitive = DefaultSensitive()
		s.Detectors.UnreportedAccess.Delay = time.Second
	})
	h.learn("ext", 5, fsRead("/app/db.sqlite"))
	pr := Process{Host: "sandbox-7", PID: 4242}
	span := func(tid [16]byte, start, end int64, target string) {
		h.e.ObserveProcess(pr, "ext", tid, rootSpan, start, end, target)
	}
	access := func(at int64, path string) {
		h.e.ObserveAccess(Access{Host: "sandbox-7", PID: 4242, PPID: 1, Exe: "/usr/bin/node", Time: at, Target: path, Syscall: "openat"}, h.now)
	}
	judge := func() []Anomaly {
		h.now += int64(2 * time.Second)
		h.e.Tick(h.now)
		return h.drain()
	}
	// Background: the host reads its config and, steadily, /etc/shadow
	// between invocations.
	for i := 0; i < 3; i++ {
		access(t0-int64(time.Hour)+int64(i)*int64(time.Minute), "/etc/app/host.yaml")
		access(t0-int64(time.Hour)+int64(i)*int64(time.Minute), "/etc/gshadow")
	}
	assert.Empty(t, judge())

	a, b := [16]byte{1}, [16]byte{2}
	start := h.now
	span(a, start, start+100*ms, "/etc/./shadow") // A reports its /etc/shadow read (unclean)
	access(start+50*ms, "/etc/shadow")
	assert.Empty(t, judge(), "a reported access")

	start = h.now
	span(b, start, start+100*ms, "/app/db.sqlite")
	access(start+10*ms, "/app/db.sqlite")
	access(start+20*ms, "/etc/shadow")        // unreported, sensitive
	access(start+30*ms, "/etc/app/host.yaml") // the host's background
	access(start+40*ms, "/etc/gshadow")       // sensitive, but the host's steady background
	access(start+50*ms, "/app/other.bin")     // unreported, outside the profile
	got := judge()
	require.Equal(t, []string{TypeUnreportedAccess, TypeUnreportedAccess}, typesOf(got), "%v", got)
	assert.Equal(t, "/etc/shadow", got[0].Target)
	assert.Equal(t, b, got[0].TraceID, "the invocation's trace, for the archive")
	assert.Equal(t, SeverityCritical, got[0].Severity)
	assert.Contains(t, got[0].Observed, "sensitive")
	assert.Contains(t, got[0].Observed, "pid 4242 /usr/bin/node on sandbox-7")
	assert.Equal(t, "/app/other.bin", got[1].Target)

	access(h.now+int64(time.Hour), "/etc/shadow") // no invocation then: background
	assert.Empty(t, judge())

	// Two concurrent invocations: the record names the later one and says so.
	c, d := [16]byte{3}, [16]byte{4}
	start = h.now
	span(c, start, start+100*ms, "")
	span(d, start+10*ms, start+100*ms, "")
	access(start+50*ms, "/root/.ssh/id_ed25519")
	got = judge()
	require.Len(t, got, 1)
	assert.Equal(t, d, got[0].TraceID)
	assert.Contains(t, got[0].Observed, "the latest of 2 concurrent invocations")
	st := h.e.AuditStats()
	assert.Equal(t, 1, st.Processes)
	assert.Zero(t, st.Pending)
	assert.EqualValues(t, 14, st.Judged)
}

func TestUnreportedAccessBounds(t *testing.T) {
	h := newHarness(t, func(s *Settings) {
		s.Detectors.UnreportedAccess.MaxPending = 3
		s.Detectors.UnreportedAccess.MaxProcesses = 2
	})
	for i := 0; i < 5; i++ {
		h.e.ObserveAccess(Access{Host: "h", PID: 1, Target: "/x"}, h.now)
		h.e.ObserveProcess(Process{Host: "h", PID: int64(i + 1)}, "ext", [16]byte{byte(i)}, rootSpan, h.now, h.now, "/x")
	}
	st := h.e.AuditStats()
	assert.Equal(t, 3, st.Pending)
	assert.EqualValues(t, 2, st.Dropped)
	assert.Equal(t, 2, st.Processes)
}
