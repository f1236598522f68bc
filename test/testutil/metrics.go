package testutil

import (
	"bufio"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// ScrapeSum fetches a Prometheus text endpoint and sums every sample of
// the metric name whose labels contain all of the given label fragments
// (e.g. `exporter="forensic"`).
func ScrapeSum(url, name string, labelFragments ...string) (float64, error) {
	return ScrapeSumWith(http.DefaultClient, url, name, labelFragments...)
}

// ScrapeSumWith is ScrapeSum with a client of the caller's (e.g. one that
// trusts a test CA for an https:// endpoint).
func ScrapeSumWith(c *http.Client, url, name string, labelFragments ...string) (float64, error) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		if rest == "" || (rest[0] != '{' && rest[0] != ' ') {
			continue // a longer metric name with this prefix
		}
		ok := true
		for _, f := range labelFragments {
			if !strings.Contains(rest, f) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		fields := strings.Fields(rest[strings.LastIndexByte(rest, '}')+1:])
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err == nil {
			sum += v
		}
	}
	return sum, sc.Err()
}
