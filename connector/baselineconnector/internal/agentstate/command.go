package agentstate

import (
	"strings"

	"github.com/sandwatch/sandwatch/internal/sandboxevent"
)

// HostFromCommand returns the host of the first http(s) URL in a shell
// command (curl, wget, a script's argument), or "": how an exec tool's
// command reaches the network, when its arguments were captured.
func HostFromCommand(cmd string) string {
	lower := strings.ToLower(cmd)
	for _, scheme := range []string{"https://", "http://"} {
		i := strings.Index(lower, scheme)
		if i < 0 {
			continue
		}
		u := cmd[i:]
		// A URL in a command ends at the shell's separators and quotes.
		if end := strings.IndexAny(u, "\"' \t\n;|&)<>`"); end >= 0 {
			u = u[:end]
		}
		if h := sandboxevent.HostFromURL(u); h != "" {
			return h
		}
	}
	return ""
}
