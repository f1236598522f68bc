package archive_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sandwatch/sandwatch/internal/archive"
	"github.com/sandwatch/sandwatch/internal/traceql"
)

func TestSearchTagsAndValues(t *testing.T) {
	base := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	r := newSyntheticArchive(t, synthetic{Traces: 400, Per: 100, Exts: 4, Base: base, Step: time.Second, EvilEvery: 50, ErrEvery: 9, Format: archive.DefaultFormat})
	ctx := context.Background()
	req := archive.TagRequest{Start: base, End: base.Add(time.Hour)}

	scopes, m, err := r.SearchTags(ctx, req)
	require.NoError(t, err)
	require.Equal(t, []archive.TagScope{
		{Name: "resource", Tags: []string{"extension.id", "service.name"}},
		{Name: "span", Tags: []string{"fs.path", "http.status_code", "sandwatch.anomaly", "sandwatch.extension", "server.address"}},
		{Name: "intrinsic", Tags: archive.IntrinsicTags},
	}, scopes)
	require.Positive(t, m.InspectedBytes)

	values := func(tag string, q string) []archive.TagValue {
		f, err := traceql.ParseField(tag)
		require.NoError(t, err)
		rq := req
		if q != "" {
			rq.Query, err = traceql.Parse(q)
			require.NoError(t, err)
		}
		out, _, err := r.SearchTagValues(ctx, rq, f)
		require.NoError(t, err)
		return out
	}
	require.Equal(t, []archive.TagValue{{"int", "200"}, {"int", "500"}}, values("span.http.status_code", ""))
	require.Equal(t, []archive.TagValue{{"string", "ext-000"}, {"string", "ext-001"}, {"string", "ext-002"}, {"string", "ext-003"}}, values("span.sandwatch.extension", ""))
	require.Equal(t, []archive.TagValue{{"string", "exfiltration"}}, values(".sandwatch.anomaly", ""))
	require.Equal(t, []archive.TagValue{{"keyword", "error"}, {"keyword", "ok"}, {"keyword", "unset"}}, values("status", ""))
	require.Equal(t, []archive.TagValue{{"string", "FileReadBlock"}, {"string", "HTTPRequestBlock"}, {"string", "invoke"}}, values("name", ""))
	require.Equal(t, []archive.TagValue{{"string", "goose"}}, values("resource.service.name", ""))
	// q narrows: the hosts called by the traces flagged exfiltration.
	require.Equal(t, []archive.TagValue{{"string", "paste.evil.example"}}, values("span.server.address", `{ span.sandwatch.anomaly = "exfiltration" }`))
	// ext-001's traces are 1, 5, 9...: none is a multiple of 50.
	require.Equal(t, []archive.TagValue{{"string", "ext-001"}}, values("span.sandwatch.extension", `{ span.sandwatch.extension = "ext-001" }`))
	require.Empty(t, values("span.sandwatch.anomaly", `{ span.sandwatch.extension = "ext-001" }`))
	// ext-002's traces are 2, 6, 10...: 50, 150, 250 and 350 among them.
	require.Equal(t, []archive.TagValue{{"string", "exfiltration"}}, values("span.sandwatch.anomaly", `{ span.sandwatch.extension = "ext-002" }`))
}
