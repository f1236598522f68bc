package tracestate

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTableBoundsAndSweep(t *testing.T) {
	tb := New(2)
	a := tb.Get([16]byte{1}, "x", 10, false)
	assert.Same(t, a, tb.Get([16]byte{1}, "x", 11, false), "same invocation for the same trace and extension")
	b := tb.Get([16]byte{1}, "y", 12, false)
	assert.NotSame(t, a, b)
	assert.NotNil(t, tb.Get([16]byte{2}, "x", 12, false))
	assert.Nil(t, tb.Get([16]byte{3}, "x", 12, false), "table full")
	assert.EqualValues(t, 1, tb.Dropped)
	c := tb.Get([16]byte{2}, "z", 13, true)
	assert.True(t, c.BeganLearning, "an invocation keeps the learning state it began in")
	assert.EqualValues(t, 13, c.Began)
	assert.True(t, tb.Get([16]byte{2}, "z", 14, false).BeganLearning, "and keeps it when the extension has learned since")
	assert.False(t, a.BeganLearning)

	var judged []string
	tb.Sweep(15, 4, 100, func(inv *Invocation) { judged = append(judged, inv.Ext) })
	assert.Equal(t, []string{"x"}, judged, "only the invocation idle for 4")
	assert.Equal(t, 2, tb.Len())
	judged = nil
	tb.Sweep(200, 4, 100, func(inv *Invocation) { judged = append(judged, inv.Ext) })
	assert.ElementsMatch(t, []string{"y", "x", "z"}, judged)
	assert.Equal(t, 0, tb.Len(), "expired traces forgotten")
}

func TestInvocationDuration(t *testing.T) {
	var inv Invocation
	inv.Observe(2e6, 5e6)
	inv.Observe(1e6, 3e6)
	assert.InDelta(t, 4.0, inv.DurationMillis(), 1e-9)
}

func BenchmarkGet(b *testing.B) {
	tb := New(1 << 20)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		tb.Get([16]byte{byte(i), byte(i >> 8), byte(i >> 16)}, "ext", int64(i), false)
	}
}
