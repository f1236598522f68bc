package sandboxevent

import (
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/sandwatch/sandwatch/internal/simulate"
)

// mixKeys are the attribute keys of the simulator's and the agent mix's
// spans, resources and log records, with repeats, in the order met.
func mixKeys(tb testing.TB) []string {
	var keys []string
	at := time.Unix(1795000000, 0)
	ext := simulate.New(simulate.Options{Seed: 2, Extensions: 50, Noise: 1})
	agents := simulate.NewAgents(simulate.AgentOptions{Seed: 2, Agents: 24, Content: 0.5, Meta: 0.5, Noise: 1})
	for i := 0; i < 60; i++ {
		for _, f := range []func(int, time.Time) (ptrace.Traces, any){
			func(i int, t time.Time) (ptrace.Traces, any) { td, ld := ext.Invocation(i, t); return td, ld },
			func(i int, t time.Time) (ptrace.Traces, any) { td, ld := agents.Session(i, t); return td, ld },
		} {
			td, _ := f(i, at)
			for _, rs := range td.ResourceSpans().All() {
				for k := range rs.Resource().Attributes().All() {
					keys = append(keys, k)
				}
				for _, ss := range rs.ScopeSpans().All() {
					for _, sp := range ss.Spans().All() {
						for k := range sp.Attributes().All() {
							keys = append(keys, k)
						}
					}
				}
			}
		}
	}
	if len(keys) == 0 {
		tb.Fatal("no keys")
	}
	return keys
}

// The table answers exactly as the map it is built from: every key of the
// table, every key of the mixes, and near misses.
func TestKeyTableMatchesMap(t *testing.T) {
	for _, cfg := range []Config{{}, {Profiles: []string{"semconv"}}, {Mapping: Mapping{ExtensionID: []string{"my.ext", "x"}}}} {
		c := MustNew(cfg)
		probe := mixKeys(t)
		for k := range c.keys {
			probe = append(probe, k, k+"x", "x"+k, k[:len(k)-1], "")
		}
		for i := 0; i < 2000; i++ {
			probe = append(probe, fmt.Sprintf("attr.%d.name", i))
		}
		hits := 0
		for _, k := range probe {
			want, wantOK := c.keys[k]
			got, ok := c.table.get(k)
			if ok != wantOK || got != want {
				t.Fatalf("%+v: key %q: table %v %v, map %v %v", cfg, k, got, ok, want, wantOK)
			}
			if ok {
				hits++
			}
		}
		if hits < len(c.keys) {
			t.Fatalf("only %d hits for %d keys", hits, len(c.keys))
		}
	}
}

// BenchmarkKeyLookup compares the map the classifier used to read with
// the table it reads now, on the mixes' keys, side by side.
//
//	go test -run '^$' -bench KeyLookup -count 5 ./internal/sandboxevent/
func BenchmarkKeyLookup(b *testing.B) {
	c := MustNew(Config{})
	keys := mixKeys(b)
	var sink int
	b.Run("map", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if s, ok := c.keys[keys[i%len(keys)]]; ok {
				sink += int(s.field)
			}
		}
	})
	b.Run("table", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if s, ok := c.table.get(keys[i%len(keys)]); ok {
				sink += int(s.field)
			}
		}
	})
	_ = sink
}
