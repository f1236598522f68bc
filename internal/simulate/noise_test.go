package simulate

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/sandwatch/sandwatch/internal/sandboxevent"
)

// Noisy benign traffic has every kind of irregularity the detectors must
// tolerate, and clean traffic has none.
func TestNoise(t *testing.T) {
	count := func(noise float64) (hosts map[string]bool, retries, timeouts, pages, versions int, updated map[string]bool) {
		g := New(Options{Seed: 3, Extensions: 20, Noise: noise})
		hosts, updated = map[string]bool{}, map[string]bool{}
		for n := 0; n < 200; n++ {
			for i := range g.Extensions() {
				td, ld := g.Invocation(i, t0)
				for _, ev := range events(td, ld) {
					if ev.Kind == sandboxevent.KindHTTP {
						hosts[ev.Target] = true
						if ev.StatusCode == 503 {
							retries++
						}
						if ev.ErrorCode == "timeout" {
							timeouts++
						}
						if strings.Contains(ev.URL, "page=") {
							pages++
						}
					}
					if ev.Version != "" {
						versions++
					}
					if ev.Version == "1.1.0" {
						updated[ev.ExtensionID] = true
					}
				}
			}
		}
		return
	}
	hosts, retries, timeouts, pages, versions, updated := count(0)
	assert.Less(t, len(hosts), 60, "clean traffic keeps to each extension's hosts")
	assert.Zero(t, retries+timeouts+pages+versions)
	assert.Empty(t, updated)

	hosts, retries, timeouts, pages, _, updated = count(DefaultNoise)
	assert.Greater(t, len(hosts), 1000, "CDN and regional names rotate")
	assert.Positive(t, retries)
	assert.Positive(t, timeouts)
	assert.Positive(t, pages)
	assert.NotEmpty(t, updated, "some extensions update")
	var cdn, regional bool
	for h := range hosts {
		cdn = cdn || strings.HasSuffix(h, ".cloudfront.net")
		regional = regional || strings.HasPrefix(h, "eu-west-1.api.")
	}
	assert.True(t, cdn && regional)
}
