package simulate

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestAddSecrets(t *testing.T) {
	td, _ := New(Options{Seed: 1}).Batch(0, 3000, time.Unix(1_700_000_000, 0))
	AddSecrets(td, 0.33, 1)
	total, secret := 0, 0
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			for k := 0; k < sss.At(j).Spans().Len(); k++ {
				total++
				a := sss.At(j).Spans().At(k).Attributes()
				u, ok := a.Get("url.full")
				if !ok || !strings.Contains(u.Str(), "api_key=sk_live_") {
					continue
				}
				secret++
				h, ok := a.Get("http.request.header.authorization")
				assert.True(t, ok)
				parts := strings.Split(strings.TrimPrefix(h.Str(), "Bearer "), ".")
				assert.Len(t, parts, 3, "a JWT")
				assert.True(t, strings.HasPrefix(parts[0], "eyJ"))
			}
		}
	}
	ratio := float64(secret) / float64(total)
	assert.InDelta(t, 0.33, ratio, 0.03, "%d of %d", secret, total)

	clean, _ := New(Options{Seed: 1}).Batch(0, 100, time.Unix(1_700_000_000, 0))
	before := clean.SpanCount()
	AddSecrets(clean, 0, 1)
	assert.Equal(t, before, clean.SpanCount())
}
