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
	replace     func(string) string
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
	// Replace, when set, replaces each identifier-like segment instead of
	// Placeholder, e.g. with a keyed hash of the segment; a template's '*'
	// segments then take Replace of the path's segment too.
	Replace func(segment string) string
}

// New compiles opts; a bad glob is an error naming the pattern.
func New(opts Options) (*Templater, error) {
	t := &Templater{placeholder: opts.Placeholder, heuristic: !opts.DisableHeuristic, replace: opts.Replace}
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
			out := c.pattern
			if t.replace != nil {
				out = fill(c.pattern, p, t.replace)
			}
			return out, out != p
		}
	}
	if !t.heuristic {
		return p, false
	}
	out := heuristic(p, t.placeholder, t.replace)
	return out, len(out) != len(p) || out != p
}

// fill replaces each whole-segment '*' of a matching template by
// replace(the path's segment there). A template with '**' spans a varying
// number of segments and stays as it is.
func fill(pattern, p string, replace func(string) string) string {
	if strings.Contains(pattern, "**") {
		return pattern
	}
	ps, vs := strings.Split(pattern, "/"), strings.Split(p, "/")
	if len(ps) != len(vs) {
		return pattern
	}
	for i := range ps {
		if ps[i] == "*" {
			ps[i] = replace(vs[i])
		}
	}
	return strings.Join(ps, "/")
}
