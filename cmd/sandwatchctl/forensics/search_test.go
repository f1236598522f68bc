package forensics

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSearchCommand(t *testing.T) {
	store := "file://" + t.TempDir()
	ids, _ := seed(t, store)
	out, err := run(t, "search", "{}", "--since", "1h", "--store", store, "--json")
	require.NoError(t, err, out)
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(line, "{") {
			assert.Contains(t, line, "pages read") // the figures, on stderr
			continue
		}
		var l searchLine
		require.NoError(t, json.Unmarshal([]byte(line), &l))
		assert.NotEmpty(t, l.RootServiceName)
		got = append(got, l.TraceID)
	}
	// Newest first: seed writes them in order, a little apart.
	assert.ElementsMatch(t, ids, got)

	out, err = run(t, "search", "{ name = \"no such span\" }", "--since", "1h", "--store", store)
	require.NoError(t, err, out)
	assert.Contains(t, out, "TRACE ID")
	assert.Contains(t, out, "0 traces")

	_, err = run(t, "search", "{} | count() > 1", "--since", "1h", "--store", store)
	assert.ErrorContains(t, err, "pipeline stage count()")
	_, err = run(t, "search", "{}", "--store", store)
	assert.ErrorContains(t, err, "--since")
}
