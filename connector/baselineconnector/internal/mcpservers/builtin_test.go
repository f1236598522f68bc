package mcpservers

import (
	"encoding/json"
	"maps"
	"os"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sandwatch/sandwatch/internal/samples"
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

// The shipped filesystem list is exactly what the real server lists: the
// tools/list output recorded from @modelcontextprotocol/server-filesystem
// 2026.8.31 by test/mcp's harness (testdata/samples/traceloop_mcp.json).
func TestFilesystemListMatchesTheRealServer(t *testing.T) {
	td := samples.Traces(t, "traceloop_mcp.json")
	var listed []string
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		for j := 0; j < rss.At(i).ScopeSpans().Len(); j++ {
			spans := rss.At(i).ScopeSpans().At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				if spans.At(k).Name() != "tools/list.mcp" {
					continue
				}
				out, _ := spans.At(k).Attributes().Get("traceloop.entity.output")
				var list struct {
					Tools []struct{ Name string } `json:"tools"`
				}
				require.NoError(t, json.Unmarshal([]byte(out.Str()), &list))
				for _, tl := range list.Tools {
					listed = append(listed, tl.Name)
				}
			}
		}
	}
	require.Len(t, listed, 14)
	assert.ElementsMatch(t, listed, slices.Collect(maps.Keys(Find("secure-filesystem-server").Spec.Tools)))
}

// Every tool the real servers listed (testdata/tools_list.json, recorded
// through test/mcp's harness) is in the shipped list, with a class: a
// fresh installation raises no new_tool.
func TestRealServersListedToolsAreShipped(t *testing.T) {
	raw, err := os.ReadFile("testdata/tools_list.json")
	require.NoError(t, err)
	var rec map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &rec))
	for server, list := range rec {
		if server == "source" {
			continue
		}
		var tools []string
		require.NoError(t, json.Unmarshal(list, &tools))
		require.NotEmpty(t, tools)
		d, err := Find(server).Spec.Compile()
		require.NoError(t, err, server)
		for _, tool := range tools {
			_, ok := d.Tool(tool)
			assert.True(t, ok, "%s lists %s, the shipped profile lacks it", server, tool)
		}
	}
}
