package simulate

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Injection is the ground truth of one injected attack.
type Injection struct {
	Scenario    string
	ExtensionID string
	TraceID     pcommon.TraceID
	Time        time.Time
	// Anomaly is the anomaly.type the baseline connector should report
	// ("" for scenarios that are not anomalies, such as secrets).
	Anomaly string
	// Secrets are the credentials planted by the secrets scenario.
	Secrets []string
	// Related are the attack's other traces (the read of a split
	// exfiltration), which the anomaly names in anomaly.observed.
	Related []pcommon.TraceID
	// Hidden are paths the process opened that no span reports (audit
	// scenarios; pass them to Generator.Audit).
	Hidden []string
}

// scenario builds the attack into an invocation of b's extension.
type scenario struct {
	anomaly string
	build   func(b *builder, inj *Injection)
}

var scenarios = map[string]scenario{
	// A file read followed, in the same trace, by a POST to a host the
	// extension never used.
	"exfiltration": {"exfiltration", func(b *builder, _ *Injection) {
		b.benign(b.selects())
		b.fsRead("/home/agent/.ssh/id_rsa", "")
		b.httpCall("POST", fmt.Sprintf("https://upload.drop-%d.io/collect", b.intn(1000)), 200, false)
	}},
	// A burst of EACCES/ENOENT on sensitive paths.
	"recon": {"recon", func(b *builder, _ *Injection) {
		for i, p := range sensitivePaths {
			errno := "EACCES"
			if i%3 == 1 {
				errno = "ENOENT"
			}
			b.fsRead(p, errno)
		}
	}},
	// 2-3 SELECTs become 50+.
	"volume-spike": {"volume_spike", func(b *builder, _ *Injection) {
		b.benign(50 + b.intn(20))
	}},
	// A DNS lookup and a connection to a host the extension never used.
	"new-destination": {"new_destination", func(b *builder, _ *Injection) {
		b.benign(b.selects())
		s := b.child("dns.lookup", time.Millisecond)
		s.Attributes().PutStr("dns.question.name", "time.google.com")
		c := b.child("network.connect", 2*time.Millisecond)
		c.Attributes().PutStr("server.address", "time.google.com")
		c.Attributes().PutInt("server.port", 123)
	}},
	// An invocation 50x its usual duration.
	"runaway": {"duration_outlier", func(b *builder, _ *Injection) {
		start := b.cursor
		b.benign(b.selects())
		usual := b.cursor.Sub(start)
		b.cursor = b.cursor.Add(49 * usual)
	}},
	// A denied capability decision (ShadowRealm, FFI or a fetch host).
	"capability-denied": {"capability_denied", func(b *builder, _ *Injection) {
		b.benign(b.selects())
		switch b.intn(3) {
		case 0:
			b.capability("shadow_realm", "", "", "", false)
		case 1:
			b.capability("ffi.open", "/lib/x86_64-linux-gnu/libc.so.6", "", "", false)
		default:
			b.capability("fetch", "169.254.169.254", "http://169.254.169.254/latest/meta-data/iam/", "GET", false)
		}
	}},
	// Credentials in URLs, headers, exception messages and log bodies.
	"secrets": {"", func(b *builder, inj *Injection) {
		aws := "AKIA" + b.randomUpper(16)
		gh := "ghp_" + b.randomAlnum(36)
		slack := "xoxb-" + b.randomDigits(12) + "-" + b.randomDigits(12) + "-" + b.randomAlnum(24)
		stripe := "sk_live_" + b.randomAlnum(24)
		pw := "S3cr3t-" + b.randomAlnum(10)
		inj.Secrets = []string{aws, gh, slack, stripe, pw}
		b.benign(b.selects())
		s := b.httpCall("GET", fmt.Sprintf("https://%s/v1/export?api_key=%s&format=csv", b.ext.Hosts[0], stripe), 200, false)
		s.Attributes().PutStr("http.request.header.authorization", "Bearer "+gh)
		db := b.child("connect", time.Millisecond)
		db.Attributes().PutStr("db.connection_string", fmt.Sprintf("postgres://svc:%s@db.internal:5432/app", pw))
		f := b.fsRead("/workspace/"+b.ext.ID+"/aws.env", "EACCES")
		ev := f.Events().AppendEmpty()
		ev.SetName("exception")
		ev.Attributes().PutStr("exception.type", "EACCES")
		ev.Attributes().PutStr("exception.message", "failed to load credentials aws_access_key_id="+aws)
		b.root.Status().SetMessage("slack notify failed for token " + slack)
		if b.ext.Style == StyleJS {
			rec := b.logs.AppendEmpty()
			rec.SetTraceID(b.trace)
			rec.SetSeverityNumber(plog.SeverityNumberError)
			rec.Body().SetStr("git push failed: remote rejected token " + gh)
		}
	}},
}

var sensitivePaths = []string{
	"/etc/shadow", "/root/.ssh/id_rsa", "/root/.aws/credentials", "/home/agent/.ssh/id_ed25519",
	"/proc/1/environ", "/var/run/secrets/kubernetes.io/serviceaccount/token", "/etc/sudoers",
	"/home/agent/.config/gh/hosts.yml", "/home/agent/.netrc", "/home/agent/.docker/config.json",
	"/etc/ssl/private/server.key", "/home/agent/.kube/config",
}

// Scenarios returns the names of the attack scenarios, sorted.
func Scenarios() []string {
	out := make([]string, 0, len(scenarios))
	for n := range scenarios {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// AnomalyType returns the anomaly.type a scenario should raise.
func AnomalyType(name string) string {
	if sc, ok := auditScenarios[name]; ok {
		return sc.anomaly
	}
	return scenarios[name].anomaly
}

// Inject returns an invocation of extension ext at t with the named attack
// in it, and its ground truth.
func (g *Generator) Inject(name string, ext int, t time.Time) (ptrace.Traces, plog.Logs, Injection, error) {
	sc, ok := scenarios[name]
	if !ok {
		sc, ok = auditScenarios[name]
	}
	if !ok {
		return ptrace.Traces{}, plog.Logs{}, Injection{}, fmt.Errorf("unknown scenario %q (known: %s)", name, strings.Join(Scenarios(), ", "))
	}
	e := &g.exts[ext%len(g.exts)]
	b := g.newBuilder(e, t)
	inj := Injection{Scenario: name, ExtensionID: e.ID, TraceID: b.trace, Time: t, Anomaly: sc.anomaly}
	sc.build(b, &inj)
	td, ld := b.finish(0)
	return td, ld, inj, nil
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func (b *builder) randomFrom(set string, n int) string {
	out := make([]byte, n)
	for i := range out {
		out[i] = set[b.intn(len(set))]
	}
	return string(out)
}

func (b *builder) randomAlnum(n int) string  { return b.randomFrom(alnum, n) }
func (b *builder) randomUpper(n int) string  { return b.randomFrom(alnum[:26]+alnum[52:], n) }
func (b *builder) randomDigits(n int) string { return b.randomFrom(alnum[52:], n) }
