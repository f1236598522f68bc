package search

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sandwatch/sandwatch/internal/archive"
	"github.com/sandwatch/sandwatch/test/testutil"
)

// Three volume spikes of one extension within the baseline's dedup
// interval are one anomaly event plus a summary that folds the other two
// (same extension, type and target; an exfiltration's target is its
// random host, so those do not fold): the anomaly index names the folded
// traces too, so the anomaly search (API and CLI) returns all three
// attack traces.
func TestSearchFoldedTraces(t *testing.T) {
	began := time.Now().Add(-time.Minute).Truncate(time.Second)
	store := "file://" + filepath.Join(t.TempDir(), "forensic")
	d := startDefault(t, store, "yaml:connectors::baseline::dedup_interval: 10s")
	injected := d.simulate(t, "--extensions", "1", "--learn", "100", "--duration", "4s", "--rate", "30",
		"--scenario", "volume-spike,volume-spike,volume-spike", "--attack-after", "1s")
	require.Len(t, injected, 3)
	for _, in := range injected {
		require.Equal(t, "volume_spike", in.Anomaly)
	}
	r := d.reader(t)
	d.settle(t, r, injected) // waits for all three in the index, folded ones included

	roles := map[string][]string{}
	require.NoError(t, r.Anomalies(context.Background(), archive.Window{}, func(a archive.AnomalyEntry) error {
		if a.Type == "volume_spike" {
			roles[a.TraceID] = append(roles[a.TraceID], a.Role)
		}
		return nil
	}))
	// The summary is raised on the latest repeat's trace and lists every
	// repeat: the ones before it are indexed only as folded.
	onlyFolded := 0
	for _, in := range injected {
		if len(roles[in.TraceID]) > 0 && !slices.Contains(roles[in.TraceID], "") {
			onlyFolded++
		}
	}
	require.Positive(t, onlyFolded, "no spike reached only through the fold list: %v", roles)

	w := window{start: began, end: time.Now().Add(time.Minute).Truncate(time.Second)}
	q := `{ span.sandwatch.anomaly = "volume_spike" }`
	code, body, _ := d.get(t, "/api/search", w.params("q", q, "limit", "100"), "")
	require.Equal(t, http.StatusOK, code, string(body))
	var sr searchResponse
	strict(t, body, &sr)
	api := map[string]bool{}
	for _, tr := range sr.Traces {
		api[tr.TraceID] = true
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := testutil.RunCtl(t, ctx, "forensics", "search", q, "--from", w.start.Format(time.RFC3339),
		"--to", w.end.Format(time.RFC3339), "--limit", "100", "--json", "--store", store)
	require.NoError(t, err, out)
	cli := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "{") {
			var l struct {
				TraceID string `json:"trace_id"`
			}
			require.NoError(t, json.Unmarshal([]byte(line), &l))
			cli[l.TraceID] = true
		}
	}
	for _, in := range injected {
		assert.True(t, api[in.TraceID], "/api/search: volume_spike trace %s not found", in.TraceID)
		assert.True(t, cli[in.TraceID], "forensics search: volume_spike trace %s not found", in.TraceID)
	}
}
