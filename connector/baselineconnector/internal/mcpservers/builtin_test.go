package mcpservers

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sandwatch/sandwatch/internal/sandboxevent"
)

func TestShippedProfilesCompile(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Builtin() {
		d, err := s.Spec.Compile()
		require.NoError(t, err, s.Name)
		require.True(t, d.HasTools(), s.Name)
		assert.NotEmpty(t, s.Source, "%s cites its source", s.Name)
		for _, n := range append([]string{s.Name}, s.Aliases...) {
			assert.False(t, seen[n], "name %s used twice", n)
			seen[n] = true
		}
	}
	assert.Len(t, Builtin(), 6)
}

func TestFind(t *testing.T) {
	for id, want := range map[string]string{
		"secure-filesystem-server": "filesystem", "Filesystem": "filesystem", "mcp-servers/everything": "everything",
		"mcp-fetch": "fetch", "memory-server": "memory", "mcp-git": "git", "github-mcp-server": "github",
	} {
		s := Find(id)
		require.NotNil(t, s, id)
		assert.Equal(t, want, s.Name, id)
	}
	assert.Nil(t, Find("my-own-server"))
}

// The classes the cross-tool detectors rely on, as the servers' sources
// describe the tools.
func TestShippedClasses(t *testing.T) {
	for _, c := range []struct {
		server, tool string
		want         sandboxevent.ToolClass
	}{
		{"filesystem", "read_text_file", sandboxevent.ToolClassRead},
		{"filesystem", "write_file", sandboxevent.ToolClassWrite},
		{"filesystem", "list_allowed_directories", sandboxevent.ToolClassDiscovery},
		{"everything", "get-env", sandboxevent.ToolClassSecrets},
		{"everything", "gzip-file-as-resource", sandboxevent.ToolClassEgress},
		{"fetch", "fetch", sandboxevent.ToolClassEgress},
		{"memory", "read_graph", sandboxevent.ToolClassRead},
		{"git", "git_commit", sandboxevent.ToolClassWrite},
		{"github", "get_file_contents", sandboxevent.ToolClassRead},
		{"github", "create_gist", sandboxevent.ToolClassEgress},
		{"github", "mark_all_notifications_read", sandboxevent.ToolClassWrite},
	} {
		d, err := Find(c.server).Spec.Compile()
		require.NoError(t, err)
		got, ok := d.Tool(c.tool)
		require.True(t, ok, "%s/%s", c.server, c.tool)
		assert.Equal(t, c.want, got, "%s/%s", c.server, c.tool)
	}
}
