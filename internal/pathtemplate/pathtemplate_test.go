package pathtemplate

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHeuristic(t *testing.T) {
	for in, want := range map[string]string{
		"/workspace/notes-12.json":                             "/workspace/notes-*.json",
		"/workspace/notes-13.json":                             "/workspace/notes-*.json",
		"/data/users/12345/profile.jpg":                        "/data/users/*/profile.jpg",
		"/v1/users/550e8400-e29b-41d4-a716-446655440000/items": "/v1/users/*/items",
		"/home/alice@example.com/mail":                         "/home/*/mail",
		"/objects/deadbeef12/blob":                             "/objects/*/blob",
		"/logs/2024-01-05.log":                                 "/logs/*-*-*.log",
		"/tok/aZ3kQ9xW2pL7mN4vB8/x":                            "/tok/*/x",
		"/usr/lib/libssl.so.3":                                 "/usr/lib/libssl.so.*",
		"/srv/ipv6/utf8/v1/config.yaml":                        "/srv/ipv6/utf8/v1/config.yaml",
		"/etc/passwd":                                          "/etc/passwd",
		"":                                                     "",
		"relative/42":                                          "relative/*",
	} {
		assert.Equal(t, want, Heuristic(in, "*"), in)
	}
	assert.Equal(t, "/v1/users/{id}/items", Heuristic("/v1/users/42/items", "{id}"))
}

func TestHeuristicNoChangeDoesNotAllocate(t *testing.T) {
	p := "/srv/app/config/settings.yaml"
	allocs := testing.AllocsPerRun(100, func() { _ = Heuristic(p, "*") })
	assert.Zero(t, allocs)
}

func TestTemplater(t *testing.T) {
	tp, err := New(Options{Templates: []string{"/data/users/*/profile.jpg", "/cache/**"}})
	require.NoError(t, err)
	out, changed := tp.Apply("/data/users/alice/profile.jpg")
	assert.Equal(t, "/data/users/*/profile.jpg", out)
	assert.True(t, changed)
	out, _ = tp.Apply("/cache/a/b/c")
	assert.Equal(t, "/cache/**", out)
	out, changed = tp.Apply("/etc/hosts")
	assert.Equal(t, "/etc/hosts", out)
	assert.False(t, changed)
	out, _ = tp.Apply("/workspace/notes-12.json")
	assert.Equal(t, "/workspace/notes-*.json", out)

	_, err = New(Options{Templates: []string{"/bad/[x"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `template "/bad/[x"`)
}

func FuzzHeuristic(f *testing.F) {
	f.Add("/workspace/notes-12.json")
	f.Add("/a//b/\xff\xfe/123")
	f.Fuzz(func(t *testing.T, p string) {
		out := Heuristic(p, "*")
		// Idempotent: a template is its own template.
		if again := Heuristic(out, "*"); again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q", p, out, again)
		}
	})
}

func TestReplaceSegments(t *testing.T) {
	h := func(s string) string { return "h(" + s + ")" }
	assert.Equal(t, "/data/users/h(12345)/profile.jpg", HeuristicWith("/data/users/12345/profile.jpg", h))
	assert.Equal(t, "/workspace/notes-h(12).json", HeuristicWith("/workspace/notes-12.json", h))
	assert.Equal(t, "/srv/app/config.yaml", HeuristicWith("/srv/app/config.yaml", h))

	tp, err := New(Options{Templates: []string{"/data/users/*/profile.jpg", "/cache/**"}, Replace: h})
	require.NoError(t, err)
	out, changed := tp.Apply("/data/users/alice/profile.jpg")
	assert.True(t, changed)
	assert.Equal(t, "/data/users/h(alice)/profile.jpg", out)
	out, _ = tp.Apply("/cache/a/b")
	assert.Equal(t, "/cache/**", out)
	out, _ = tp.Apply("/v1/items/550e8400-e29b-41d4-a716-446655440000")
	assert.Equal(t, "/v1/items/h(550e8400-e29b-41d4-a716-446655440000)", out)
}

// writeRest cuts segments as strings.Split did (empty segments, leading
// and trailing slashes included).
func TestWriteRestSegmentsLikeSplit(t *testing.T) {
	for _, p := range []string{"", "/", "//", "a", "a/", "/a", "a//b", "x/1234/y/", "/users/8f14e45fceea167a5a36dedd4bea2543/files//", "a/b/c/d/e"} {
		var got, want strings.Builder
		writeRest(&got, p, "*", nil)
		for i, seg := range strings.Split(p, "/") {
			if i > 0 {
				want.WriteByte('/')
			}
			writeSegment(&want, seg, "*", nil)
		}
		if got.String() != want.String() {
			t.Errorf("%q: %q, want %q", p, got.String(), want.String())
		}
	}
}
