// Package loopback hands out free TCP ports on 127.0.0.1 for the test
// suites and the benchmark harness, which start collectors on them.
package loopback

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
)

// Ports are picked in 20000-32767, below Linux's ephemeral range
// (32768-60999): a port from the ephemeral range can be taken by one of
// the process's own outgoing connections between being handed out and
// the collector binding it (an e2e run failed that way). A port is never
// handed out twice by one process.
const (
	lowPort  = 20000
	highPort = 32767
)

var (
	mu    sync.Mutex
	given = map[int]bool{}
)

// ErrNoPort is returned when no free port was found.
var ErrNoPort = errors.New("no free port in 20000-32767 on 127.0.0.1")

// FreePort returns a port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	mu.Lock()
	defer mu.Unlock()
	for range 1000 {
		p := lowPort + rand.IntN(highPort-lowPort+1)
		if given[p] {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		_ = l.Close()
		given[p] = true
		return p, nil
	}
	return 0, ErrNoPort
}
