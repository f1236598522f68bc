package simulate

import (
	"fmt"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// Attacks that novelty detectors cannot see: volume through an allowed
// host, and a read and its egress split across invocations.
func init() {
	// A 150 MiB POST to one of the extension's usual hosts.
	scenarios["egress-volume"] = scenario{"egress_volume", func(b *builder, _ *Injection) {
		b.benign(b.selects())
		url := fmt.Sprintf("https://%s/v1/upload", b.ext.Hosts[0])
		s := b.httpCall("POST", url, 200, false)
		key := "http.request.body.size"
		if b.ext.Style == StyleWazero {
			key = "http_call.request.body.size"
		}
		s.Attributes().PutInt(key, 150<<20)
	}}
	// A key read in one invocation (otherwise benign) and sent, in the
	// next invocation a minute later, to a host the extension never used;
	// the second invocation reads nothing, so no single trace shows both.
	scenarios["exfiltration-split"] = scenario{"exfiltration", func(b *builder, inj *Injection) {
		b.benign(b.selects())
		b.fsRead("/home/agent/.ssh/id_rsa", "")
		first := b.trace
		b.finish(0)
		next := b.g.newBuilder(b.ext, b.cursor.Add(time.Minute))
		next.call("GET")
		next.httpCall("POST", fmt.Sprintf("https://paste.drop-%d.io/api/v1/paste", b.intn(1000)), 200, false)
		next.finish(0)
		next.td.ResourceSpans().MoveAndAppendTo(b.td.ResourceSpans())
		next.ld.ResourceLogs().MoveAndAppendTo(b.ld.ResourceLogs())
		inj.TraceID, inj.Related = next.trace, []pcommon.TraceID{first}
		b.trace = next.trace
	}}
}
