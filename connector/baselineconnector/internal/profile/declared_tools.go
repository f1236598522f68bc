package profile

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/sandwatch/sandwatch/internal/sandboxevent"
)

// ParseToolClass reads a tool class name (read, write, egress, exec,
// secrets, discovery, other).
func ParseToolClass(s string) (sandboxevent.ToolClass, bool) {
	for c := sandboxevent.ToolClassOther; c <= sandboxevent.ToolClassDiscovery; c++ {
		if strings.EqualFold(s, c.String()) {
			return c, true
		}
	}
	return 0, false
}

func (d *Declared) compileTools(tools map[string]string) error {
	if len(tools) == 0 {
		return nil
	}
	d.tools = make(map[string]sandboxevent.ToolClass, len(tools))
	for _, name := range slices.Sorted(maps.Keys(tools)) { // a stable message
		c, ok := ParseToolClass(tools[name])
		if !ok {
			return fmt.Errorf("tools[%s]: class must be read, write, egress, exec, secrets, discovery or other (got %q)", name, tools[name])
		}
		if name == "" {
			return fmt.Errorf("tools: empty tool name")
		}
		d.tools[name] = c
	}
	return nil
}

// rootPatterns turns a declared root directory into the path globs it
// covers: the directory itself and everything below it.
func rootPatterns(root string) ([]string, error) {
	if !strings.HasPrefix(root, "/") {
		return nil, fmt.Errorf("roots: %q must be an absolute directory", root)
	}
	r := path.Clean(root)
	if r == "/" {
		return []string{"/**"}, nil
	}
	return []string{r, r + "/**"}, nil
}

// HasTools reports whether a tool list is declared.
func (d *Declared) HasTools() bool { return d != nil && d.tools != nil }

// Tool returns the declared class of tool and whether the list has it.
func (d *Declared) Tool(name string) (sandboxevent.ToolClass, bool) {
	if d == nil {
		return 0, false
	}
	c, ok := d.tools[name]
	return c, ok
}

func mergeTools(a, b map[string]string) map[string]string {
	if len(a) == 0 {
		return b
	}
	if len(b) == 0 {
		return a
	}
	out := maps.Clone(a)
	maps.Copy(out, b)
	return out
}
