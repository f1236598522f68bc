package simulate

import (
	"fmt"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// DefaultNoise is the noise level `sandwatchctl simulate --noise` means
// without a value: benign traffic as irregular as real traffic is, the
// level the detectors are tuned to keep under 1 false positive per 10,000
// benign invocations.
const DefaultNoise = 1.0

// MaxNoise bounds the level (probabilities scale with it).
const MaxNoise = 4.0

// Benign noise (Options.Noise > 0), per invocation:
//   - retries: an HTTP call fails first with a 5xx or a client timeout and
//     is retried, after a timeout possibly against another region;
//   - pagination: a GET of a paginating extension fetches 2 to 2+3xlevel
//     pages;
//   - rotating hostnames: assets from CloudFront distributions and edge
//     servers (d1x2y3z4.cloudfront.net, server-13-32-99-12.fra56.r.cloudfront.net)
//     and a regional API (eu-west-1.api.<ext>.example.com);
//   - slow runs: every span of the invocation 1.5x to 2.5x longer;
//   - version updates: some extensions move to a new version after their
//     first updateAfter invocations; the new version calls one more host.
//
// None of it is an attack: a detector that reports it is a false positive.

// noiseExt is one extension's noisy habits.
type noiseExt struct {
	paginates, assets, regional bool
	updateAt                    int    // invocation count at which the version changes; 0 = never
	newHost                     string // the host the new version adds
	invocations                 int
}

// updateAfter: updates come after learning (the quality test learns for
// 100 invocations per extension) and within the run.
const updateAfter = 120

var regions = []string{"us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-west-3", "eu-central-1", "eu-north-1",
	"ap-south-1", "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "sa-east-1", "ca-central-1"}

var pops = []string{"fra", "iad", "lhr", "cdg", "sfo", "nrt", "sin", "gru", "syd", "ams", "dfw", "bom"}

var newHostWords = []string{"telemetry", "assets", "auth", "status", "files", "events"}

func newNoise(g *Generator, level float64) {
	g.noise = min(level, MaxNoise)
	r := g.rng
	for i := range g.exts {
		e := &g.exts[i]
		n := noiseExt{paginates: r.Float64() < 0.5, assets: r.Float64() < 0.5, regional: r.Float64() < 0.3}
		if r.Float64() < min(0.25*g.noise, 1) {
			n.updateAt = updateAfter + r.IntN(60)
			n.newHost = fmt.Sprintf("%s.%s", newHostWords[i%len(newHostWords)], e.Hosts[0][len("api0."):])
		}
		g.nz = append(g.nz, n)
	}
}

// noisy is the builder's per-invocation noise state.
type noisy struct {
	on      bool
	ext     noiseExt
	version string
	slow    float64 // span duration factor; 0 = 1
}

// startNoise decides this invocation's noise.
func (b *builder) startNoise() {
	if b.g.noise <= 0 {
		return
	}
	b.g.mu.Lock()
	i := b.extIndex()
	n := &b.g.nz[i]
	n.invocations++
	b.nz = noisy{on: true, ext: *n, version: "1.0.0"}
	if n.updateAt > 0 && n.invocations >= n.updateAt {
		b.nz.version = "1.1.0"
	}
	if b.g.rng.Float64() < 0.02*b.g.noise {
		b.nz.slow = 1.5 + b.g.rng.Float64()
	}
	b.g.mu.Unlock()
}

func (b *builder) extIndex() int {
	for i := range b.g.exts {
		if &b.g.exts[i] == b.ext {
			return i
		}
	}
	return 0
}

func (b *builder) chance(p float64) bool {
	return float64(b.intn(1_000_000)) < p*b.g.noise*1_000_000
}

// scaled applies a slow run's factor to a span duration.
func (b *builder) scaled(d time.Duration) time.Duration {
	if b.nz.slow == 0 {
		return d
	}
	return time.Duration(float64(d) * b.nz.slow)
}

// updated reports whether this invocation runs the extension's new version.
func (b *builder) updated() bool { return b.nz.on && b.nz.ext.updateAt > 0 && b.nz.version != "1.0.0" }

// host returns one of the extension's hosts, a rotating regional name
// for a regional extension's first host.
func (b *builder) host() string {
	i := b.intn(len(b.ext.Hosts))
	if b.nz.on && b.nz.ext.regional && i == 0 {
		return fmt.Sprintf("%s.api.%s", regions[b.intn(len(regions))], b.ext.Hosts[0][len("api0."):])
	}
	return b.ext.Hosts[i]
}

// call is one of the extension's habitual HTTP calls, with retries and
// pagination under noise. POSTs carry a request body size.
func (b *builder) call(method string) {
	host := b.host()
	url := fmt.Sprintf("https://%s/v1/items/%d", host, 1+b.intn(10000))
	if b.nz.on {
		for attempt := 0; attempt < 2 && b.chance(0.05); attempt++ {
			b.failedAttempt(method, url)
			if b.nz.ext.regional && host != b.ext.Hosts[0] && b.intn(2) == 0 {
				host = b.host() // fail over to another region
				url = fmt.Sprintf("https://%s/v1/items/%d", host, 1+b.intn(10000))
			}
		}
	}
	b.withBody(b.httpCall(method, url, 200, false), method)
	if b.nz.on && method == "GET" && b.nz.ext.paginates && b.chance(0.4) {
		pages := 1 + b.intn(1+int(3*b.g.noise))
		for p := 2; p <= pages+1; p++ {
			b.httpCall("GET", fmt.Sprintf("https://%s/v1/items?page=%d&cursor=%s", host, p, b.randomAlnum(12)), 200, false)
		}
	}
}

// failedAttempt is a 503 or a client timeout.
func (b *builder) failedAttempt(method, url string) {
	if b.intn(10) < 7 {
		b.withBody(b.httpCall(method, url, 503, false), method)
		return
	}
	s := b.httpCall(method, url, 0, false)
	b.withBody(s, method)
	s.Status().SetCode(ptrace.StatusCodeError)
	s.Status().SetMessage("context deadline exceeded")
	s.Attributes().PutStr("error.type", "timeout")
	// A timeout lasts the client's deadline, about twice a normal call.
	s.SetEndTimestamp(s.EndTimestamp() + (s.EndTimestamp()-s.StartTimestamp())*3/2)
}

// withBody records a body-carrying request's size: a few KiB of JSON.
func (b *builder) withBody(s ptrace.Span, method string) {
	if method != "POST" && method != "PUT" {
		return
	}
	key := "http.request.body.size"
	if b.ext.Style == StyleWazero {
		key = "http_call.request.body.size"
	}
	s.Attributes().PutInt(key, int64(512+b.intn(16<<10)))
}

// noiseExtras adds the assets a CDN-using extension fetches and the host
// a new version calls.
func (b *builder) noiseExtras() {
	if !b.nz.on {
		return
	}
	if b.nz.ext.assets && b.chance(0.6) {
		for n := 1 + b.intn(2); n > 0; n-- {
			var h string
			if b.intn(2) == 0 {
				h = "d" + b.randomFrom("abcdefghijklmnopqrstuvwxyz0123456789", 13) + ".cloudfront.net"
			} else {
				h = fmt.Sprintf("server-%d-%d-%d-%d.%s%d.r.cloudfront.net", 13+b.intn(5), b.intn(256), b.intn(256), b.intn(256),
					pops[b.intn(len(pops))], 1+b.intn(80))
			}
			b.httpCall("GET", fmt.Sprintf("https://%s/static/%s.js", h, b.randomFrom("0123456789abcdef", 8)), 200, false)
		}
	}
	if b.updated() && b.intn(2) == 0 {
		b.httpCall("GET", "https://"+b.nz.ext.newHost+"/v2/config", 200, false)
	}
}

// setVersion records the extension's version where its host does.
func (b *builder) setVersion() {
	if !b.nz.on {
		return
	}
	switch b.ext.Style {
	case StyleWazero:
		b.td.ResourceSpans().At(0).Resource().Attributes().PutStr("plugin.version", b.nz.version)
	case StyleJS:
		b.td.ResourceSpans().At(0).Resource().Attributes().PutStr("sandbox.script.version", b.nz.version)
		if b.ld.ResourceLogs().Len() > 0 {
			b.ld.ResourceLogs().At(0).Resource().Attributes().PutStr("sandbox.script.version", b.nz.version)
		}
	}
}

// spanVersion is the per-span form (Goose and semconv record the
// extension on each span).
func (b *builder) spanVersion(m pcommon.Map) {
	if !b.nz.on {
		return
	}
	switch b.ext.Style {
	case StyleGoose:
		m.PutStr("extension.version", b.nz.version)
	case StyleSemconv:
		m.PutStr("sandbox.extension.version", b.nz.version)
	}
}
