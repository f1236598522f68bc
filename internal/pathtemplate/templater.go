package pathtemplate

import (
	"fmt"
	"strings"

	"github.com/gobwas/glob"
)

// Templater applies operator-supplied glob templates, then the heuristic.
type Templater struct {
	templates   []compiled
	placeholder string
	heuristic   bool
}

type compiled struct {
	pattern string
	g       glob.Glob
}

// Options configure a Templater.
type Options struct {
	// Templates are glob patterns ('*' matches within one segment, '**'
	// across segments); a matching path is replaced by the pattern itself.
	Templates []string
	// Placeholder replaces identifier-like segments; default "*".
	Placeholder string
	// DisableHeuristic keeps paths no template matched unchanged.
	DisableHeuristic bool
}

// New compiles opts; a bad glob is an error naming the pattern.
func New(opts Options) (*Templater, error) {
	t := &Templater{placeholder: opts.Placeholder, heuristic: !opts.DisableHeuristic}
	if t.placeholder == "" {
		t.placeholder = "*"
	}
	for _, p := range opts.Templates {
		if !strings.HasPrefix(p, "/") && !strings.Contains(p, "*") {
			return nil, fmt.Errorf("template %q: expected a path pattern such as /data/users/*/profile.jpg", p)
		}
		g, err := glob.Compile(p, '/')
		if err != nil {
			return nil, fmt.Errorf("template %q: %w", p, err)
		}
		t.templates = append(t.templates, compiled{pattern: p, g: g})
	}
	return t, nil
}

// Apply returns the template for path p and whether it differs from p.
func (t *Templater) Apply(p string) (string, bool) {
	for _, c := range t.templates {
		if c.g.Match(p) {
			return c.pattern, c.pattern != p
		}
	}
	if !t.heuristic {
		return p, false
	}
	out := Heuristic(p, t.placeholder)
	return out, len(out) != len(p) || out != p
}
