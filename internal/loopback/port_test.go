package loopback

import (
	"fmt"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFreePortIsFreeUniqueAndBelowEphemeral(t *testing.T) {
	seen := map[int]bool{}
	for range 200 {
		p, err := FreePort()
		require.NoError(t, err)
		assert.GreaterOrEqual(t, p, lowPort)
		assert.LessOrEqual(t, p, highPort)
		assert.False(t, seen[p], "port %d handed out twice", p)
		seen[p] = true
	}
	p, err := FreePort()
	require.NoError(t, err)
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
	require.NoError(t, err, "the port is bindable")
	l.Close()
}
