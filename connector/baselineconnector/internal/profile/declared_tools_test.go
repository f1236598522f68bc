package profile

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sandwatch/sandwatch/internal/sandboxevent"
)

func TestDeclaredToolsAndRoots(t *testing.T) {
	d, err := (&DeclaredSpec{Tools: map[string]string{"open": "read", "post": "Egress"}, Roots: []string{"/srv/data/", "/tmp"}}).Compile()
	require.NoError(t, err)
	c, ok := d.Tool("post")
	assert.True(t, ok)
	assert.Equal(t, sandboxevent.ToolClassEgress, c)
	_, ok = d.Tool("delete")
	assert.False(t, ok)
	for p, want := range map[string]bool{"/srv/data": true, "/srv/data/a/b.txt": true, "/srv/database": false, "/tmp/x": true, "/etc/passwd": false} {
		assert.Equal(t, want, d.Match(ClassPath, p), p)
	}
	assert.True(t, d.Has(ClassPath))

	_, err = (&DeclaredSpec{Tools: map[string]string{"x": "reads"}}).Compile()
	assert.EqualError(t, err, `tools[x]: class must be read, write, egress, exec, secrets, discovery or other (got "reads")`)
	_, err = (&DeclaredSpec{Roots: []string{"data"}}).Compile()
	assert.EqualError(t, err, `roots: "data" must be an absolute directory`)

	m := Merge(&DeclaredSpec{Tools: map[string]string{"a": "read"}}, &DeclaredSpec{Tools: map[string]string{"b": "egress"}, Roots: []string{"/r"}})
	assert.Equal(t, map[string]string{"a": "read", "b": "egress"}, m.Tools)
	assert.Equal(t, []string{"/r"}, m.Roots)
	assert.False(t, m.IsEmpty())
}

func TestToolsRegistrySnapshot(t *testing.T) {
	p := New("srv", 1)
	p.Tools.Add("a", 7, 4)
	p.Tools.Add("b", 0, 4)
	s := p.Snapshot()
	assert.True(t, s.ToolsKnown)
	q := FromSnapshot(&s, DefaultLimits())
	require.Equal(t, 2, q.Tools.Len())
	assert.Equal(t, uint64(7), q.Tools.Desc(q.Tools.Lookup("a")))
}
