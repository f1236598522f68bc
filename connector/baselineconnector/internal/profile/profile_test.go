package profile

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sandwatch/sandwatch/internal/sandboxevent"
)

func TestNumKindsMatchesEventModel(t *testing.T) {
	require.Len(t, sandboxevent.Kinds(), NumKinds)
	for i, k := range sandboxevent.Kinds() {
		assert.Equal(t, k.String(), KindNames[i])
	}
}

func TestSetCapAndSummary(t *testing.T) {
	var s Set
	for i := 0; i < 100; i++ {
		n := fmt.Sprintf("host-%d.example.com", i)
		assert.True(t, s.Add(Hash(n), n, 10))
		assert.False(t, s.Add(Hash(n), n, 10), "second add is not new")
	}
	assert.Equal(t, 10, s.Len())
	assert.EqualValues(t, 90, s.Overflow())
	for i := 0; i < 100; i++ {
		assert.True(t, s.Contains(Hash(fmt.Sprintf("host-%d.example.com", i))), "no false negatives")
	}
	fp := 0
	for i := 0; i < 10000; i++ {
		if s.Contains(Hash(fmt.Sprintf("other-%d.example.net", i))) {
			fp++
		}
	}
	assert.Less(t, fp, 100, "summary false positives stay near 1%%")
	huge := string(make([]byte, 1<<20))
	s2 := Set{}
	s2.Add(Hash(huge), huge, 10)
	assert.Len(t, s2.Names()[0], MaxNameLen)
}

func TestStatScoreAndFloors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		samples []float64
		x       float64
		f       Floors
		want    float64 // minimum score
		max     float64
	}{
		{"constant baseline floored", []float64{3, 3, 3, 3}, 4, Floors{FloorAbs: 2, FloorRel: 0.5}, 0, 1},
		{"spike", []float64{2, 3, 2, 3, 2, 3}, 50, Floors{FloorAbs: 2, FloorRel: 0.5}, 20, 30},
		{"zero baseline", []float64{0, 0, 0}, 50, Floors{FloorAbs: 2, FloorRel: 0.5}, 24, 26},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s Stat
			for _, x := range tc.samples {
				s.Add(x, Alpha(100))
			}
			sc := s.Score(tc.x, tc.f)
			assert.GreaterOrEqual(t, sc, tc.want)
			assert.LessOrEqual(t, sc, tc.max)
		})
	}
	assert.InDelta(t, 0.5, 1-Alpha(1), 1e-9, "half-life of one sample halves the weight")
}

func TestDeclaredGlobs(t *testing.T) {
	d, err := (&DeclaredSpec{Hosts: []string{"*.example.com"}, Paths: []string{"/workspace/*/notes-*.json", "/etc/app/**"}}).Compile()
	require.NoError(t, err)
	assert.True(t, d.Has(ClassHost))
	assert.False(t, d.Has(ClassTable))
	assert.True(t, d.Match(ClassHost, "api.example.com"))
	assert.False(t, d.Match(ClassHost, "example.org"))
	assert.True(t, d.Match(ClassPath, "/workspace/a/notes-*.json"))
	assert.False(t, d.Match(ClassPath, "/workspace/a/b/notes-1.json"), "'*' stays within a segment")
	assert.True(t, d.Match(ClassPath, "/etc/app/x/y.conf"))
	_, err = (&DeclaredSpec{Tables: []string{"[x"}}).Compile()
	assert.ErrorContains(t, err, "tables")
}

func TestSnapshotRoundTrip(t *testing.T) {
	p := New("ext-1", 5)
	for i := 0; i < 70; i++ {
		n := fmt.Sprintf("/p/%d", i)
		p.Sets[ClassPath].Add(Hash(n), n, 64)
	}
	p.Counts[3].Add(2, 0.1)
	p.Block("SqlQueryBlock").Add(12, 0.1)
	p.Learned, p.Invocations = true, 100
	p.Imported = &DeclaredSpec{Hosts: []string{"a.io"}, MaxEgressBytesPerMinute: 1 << 20}
	p.Egress.Add(4096, 0.1)
	p.EgressWindow.Add(8192, 0.1)
	p.Version, p.Versions, p.Relearn = "1.1.0", []string{"1.0.0", "1.1.0"}, 7
	q := FromSnapshot(ptr(p.Snapshot()), DefaultLimits())
	assert.Equal(t, p.Snapshot(), q.Snapshot())
	assert.True(t, q.Sets[ClassPath].Contains(Hash("/p/69")), "overflowed target kept in the summary")
}

func ptr[T any](v T) *T { return &v }

// Declared egress caps: the stricter wins in a merge; negative caps are
// refused.
func TestDeclaredEgressCaps(t *testing.T) {
	m := Merge(&DeclaredSpec{MaxEgressBytesPerInvocation: 100}, &DeclaredSpec{MaxEgressBytesPerInvocation: 50, MaxEgressBytesPerMinute: 10})
	d, err := m.Compile()
	require.NoError(t, err)
	inv, perMin := d.EgressCaps()
	assert.EqualValues(t, 50, inv)
	assert.EqualValues(t, 10, perMin)
	assert.False(t, (&DeclaredSpec{MaxEgressBytesPerMinute: 1}).IsEmpty())
	_, err = (&DeclaredSpec{MaxEgressBytesPerInvocation: -1}).Compile()
	assert.ErrorContains(t, err, "max_egress_bytes_per_invocation")
}

func TestReadsRing(t *testing.T) {
	var r Reads
	for i := 0; i < 10; i++ {
		r.Add(Read{Target: fmt.Sprint(i), TraceID: [16]byte{byte(i)}, Time: int64(i)}, 3)
	}
	assert.Equal(t, 3, r.Len())
	got := r.Latest([16]byte{9}, 0)
	require.NotNil(t, got)
	assert.Equal(t, "8", got.Target, "the latest read of another trace")
	assert.Nil(t, r.Latest([16]byte{}, 10), "none since 10")
}
