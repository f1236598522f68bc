package agentstate

import (
	"strings"

	"github.com/sandwatch/sandwatch/internal/sandboxevent"
)

// HostFromCommand returns the host of the first http(s) URL in a shell
// command (curl, wget, a script's argument), or "": how an exec tool's
// command reaches the network, when its arguments were captured.
func HostFromCommand(cmd string) string {
	for _, scheme := range []string{"https://", "http://"} {
		i := indexFoldASCII(cmd, scheme)
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

// indexFoldASCII finds sub (lower-case ASCII) in s ignoring ASCII case;
// byte offsets stay those of s (strings.ToLower may change lengths).
func indexFoldASCII(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		j := 0
		for j < len(sub) && lowerASCII(s[i+j]) == sub[j] {
			j++
		}
		if j == len(sub) {
			return i
		}
	}
	return -1
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
