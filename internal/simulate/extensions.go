// Package simulate generates realistic sandbox telemetry: many extensions
// with stable habits (each reads its own paths, calls its own hosts, runs
// its own queries), and named attack scenarios injected on demand. It is
// deterministic for a seed, so tests can use it as ground truth.
package simulate

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Style is the sandbox host an extension runs under; it decides the
// attribute conventions of its telemetry (see testdata/samples).
type Style uint8

const (
	StyleGoose   Style = iota // Goose-style host wrapper (extension.id, block.type)
	StyleSemconv              // OTel semantic conventions (sandbox.extension.id)
	StyleWazero               // wazero plugin host (plugin.id, http_call)
	StyleJS                   // JS sandbox with capability-audit logs (sandbox.script.id)
	numStyles
)

func (s Style) String() string {
	return [...]string{"goose", "semconv", "wazero", "js"}[s]
}

// Extension is one simulated extension and its habits.
type Extension struct {
	ID     string
	Style  Style
	Paths  []string // printf patterns with one %d, e.g. /workspace/x/notes-%d.json
	Hosts  []string
	Tables []string
	// Library is the FFI library a JS extension opens.
	Library string
	// SelectsMin..SelectsMax SELECTs per invocation.
	SelectsMin, SelectsMax int
	// Reads per invocation and HTTP calls per invocation.
	Reads, Calls int
	// Posts: whether the extension normally POSTs to its own hosts.
	Posts bool
	// BaseDuration of a block; the invocation lasts about the sum.
	BaseDuration time.Duration
}

var words = []string{"weather", "notes", "calendar", "invoice", "search", "translate", "summary", "crm", "ticket", "report",
	"mail", "docs", "pdf", "image", "audio", "code", "review", "deploy", "metrics", "backup", "chat", "sheet", "wiki", "feed"}

var fileKinds = []string{"notes-%d.json", "cache/item-%d.bin", "out/report-%d.md", "%d/profile.jpg", "logs/run-%d.log"}

func newExtension(r *rand.Rand, i int) Extension {
	w := words[i%len(words)]
	id := fmt.Sprintf("%s-%03d", w, i)
	e := Extension{ID: id, Style: Style(i % int(numStyles))}
	np := 1 + r.IntN(2)
	for j := 0; j < np; j++ {
		e.Paths = append(e.Paths, fmt.Sprintf("/workspace/%s/%s", id, fileKinds[(i+j)%len(fileKinds)]))
	}
	nh := 1 + r.IntN(2)
	for j := 0; j < nh; j++ {
		e.Hosts = append(e.Hosts, fmt.Sprintf("api%d.%s-%d.example.com", j, w, i))
	}
	nt := 1 + r.IntN(2)
	for j := 0; j < nt; j++ {
		e.Tables = append(e.Tables, fmt.Sprintf("%s_%s", w, []string{"items", "events", "users", "jobs"}[(i+j)%4]))
	}
	e.Library = []string{"libsqlite3.so.0", "libz.so.1", "libcrypto.so.3"}[i%3]
	e.SelectsMin = 2
	e.SelectsMax = 3
	e.Reads = 1 + r.IntN(2)
	e.Calls = 1 + r.IntN(2)
	e.Posts = r.IntN(3) == 0
	e.BaseDuration = time.Duration(5+r.IntN(40)) * time.Millisecond
	if e.Style == StyleWazero { // wazero plugins reach out only through http_call
		e.Reads, e.SelectsMin, e.SelectsMax = 0, 0, 0
	}
	return e
}
