package simulate

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// AddSecrets turns a fraction ratio of td's spans (every span with
// probability ratio, from seed) into HTTP calls that carry credentials the
// way careless clients send them: url.full with an api_key=sk_live_...
// query parameter and an Authorization: Bearer <JWT> request header. The
// other spans are kept; the file paths and SQL of the realistic mix
// already carry ids and literals. This is the secret-heavy mix the
// benchmarks measure besides the realistic one, where secrets are rare and
// a scrubber's cost per secret hides.
func AddSecrets(td ptrace.Traces, ratio float64, seed uint64) {
	if ratio <= 0 {
		return
	}
	r := rand.New(rand.NewPCG(seed, seed^0x5ec7e7))
	rss := td.ResourceSpans()
	n := 0
	for i := 0; i < rss.Len(); i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				if r.Float64() >= ratio {
					continue
				}
				n++
				SecretHTTPCall(spans.At(k), r, n)
			}
		}
	}
}

// SecretHTTPCall rewrites sp into an HTTP call with an API key in the URL
// and a bearer JWT in the Authorization header.
func SecretHTTPCall(sp ptrace.Span, r *rand.Rand, n int) {
	sp.SetName("POST")
	a := sp.Attributes()
	a.Clear()
	a.PutStr("http.request.method", "POST")
	a.PutStr("url.full", fmt.Sprintf("https://api.payments.example.com/v1/customers/%d/charges?api_key=sk_live_%s&limit=10", 10000+n, randomFrom(r, alnum, 24+r.IntN(40))))
	a.PutStr("server.address", "api.payments.example.com")
	a.PutStr("http.request.header.authorization", "Bearer "+randomJWT(r))
	a.PutStr("http.request.header.user-agent", "agent-ext/2.1 (linux; x86_64)")
	a.PutInt("http.response.status_code", 200)
}

const b64url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func randomFrom(r *rand.Rand, set string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = set[r.IntN(len(set))]
	}
	return string(b)
}

// randomJWT is a structurally valid HS256 JWT with a random subject and
// signature.
func randomJWT(r *rand.Rand) string {
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	claims := enc.EncodeToString(fmt.Appendf(nil, `{"sub":"user-%d","iat":%d,"scope":"charges:write"}`, r.IntN(1_000_000), 1_700_000_000+r.IntN(10_000_000)))
	return header + "." + claims + "." + randomFrom(r, b64url, 43)
}
