package profile

import (
	"fmt"

	"github.com/gobwas/glob"

	"github.com/sandwatch/sandwatch/internal/sandboxevent"
)

// DeclaredSpec is what an operator says an extension may do: glob
// patterns per class ('*' within a segment, '**' across for paths; '*'
// matches any run of characters for hosts, tables, capabilities and
// libraries).
type DeclaredSpec struct {
	Hosts        []string `mapstructure:"hosts" json:"hosts,omitempty" yaml:"hosts,omitempty"`
	Paths        []string `mapstructure:"paths" json:"paths,omitempty" yaml:"paths,omitempty"`
	Tables       []string `mapstructure:"tables" json:"tables,omitempty" yaml:"tables,omitempty"`
	Capabilities []string `mapstructure:"capabilities" json:"capabilities,omitempty" yaml:"capabilities,omitempty"`
	Libraries    []string `mapstructure:"libraries" json:"libraries,omitempty" yaml:"libraries,omitempty"`
	// Egress caps in bytes (0 = none): egress_volume fires above them from
	// the first invocation, learned or not.
	MaxEgressBytesPerInvocation int64 `mapstructure:"max_egress_bytes_per_invocation" json:"max_egress_bytes_per_invocation,omitempty" yaml:"max_egress_bytes_per_invocation,omitempty"`
	MaxEgressBytesPerMinute     int64 `mapstructure:"max_egress_bytes_per_minute" json:"max_egress_bytes_per_minute,omitempty" yaml:"max_egress_bytes_per_minute,omitempty"`
	// Tools an MCP server may expose, each with its class (read, write,
	// egress, exec, secrets, discovery, other): a tool outside the list is
	// new_tool from its first call, and the class judges cross-tool chains.
	Tools map[string]string `mapstructure:"tools" json:"tools,omitempty" yaml:"tools,omitempty"`
	// Roots are directories an MCP server may read or write (each also
	// covers everything below it): paths outside them are new_path.
	Roots []string `mapstructure:"roots" json:"roots,omitempty" yaml:"roots,omitempty"`
}

func (d *DeclaredSpec) lists() [NumClasses][]string {
	return [NumClasses][]string{d.Hosts, d.Paths, d.Tables, d.Capabilities, d.Libraries}
}

// IsEmpty reports whether nothing is declared.
func (d *DeclaredSpec) IsEmpty() bool {
	for _, l := range d.lists() {
		if len(l) > 0 {
			return false
		}
	}
	return d.MaxEgressBytesPerInvocation == 0 && d.MaxEgressBytesPerMinute == 0 && len(d.Tools) == 0 && len(d.Roots) == 0
}

// Declared is a compiled DeclaredSpec. A class with patterns is an
// allowlist enforced from the first span; a class without patterns is
// left to learning.
type Declared struct {
	globs [NumClasses][]glob.Glob
	// MaxEgressPerInvocation and MaxEgressPerMinute are the caps (0 = none).
	MaxEgressPerInvocation, MaxEgressPerMinute int64
	// tools is the declared tool list with classes (nil: not declared).
	tools map[string]sandboxevent.ToolClass
}

// Compile checks and compiles the patterns; errors name the class and
// the pattern.
func (d *DeclaredSpec) Compile() (*Declared, error) {
	if d.MaxEgressBytesPerInvocation < 0 || d.MaxEgressBytesPerMinute < 0 {
		return nil, fmt.Errorf("max_egress_bytes_per_invocation/max_egress_bytes_per_minute: must be 0 (no cap) or a positive number of bytes")
	}
	out := &Declared{MaxEgressPerInvocation: d.MaxEgressBytesPerInvocation, MaxEgressPerMinute: d.MaxEgressBytesPerMinute}
	if err := out.compileTools(d.Tools); err != nil {
		return nil, err
	}
	lists := d.lists()
	for _, r := range d.Roots {
		pats, err := rootPatterns(r)
		if err != nil {
			return nil, err
		}
		lists[ClassPath] = append(lists[ClassPath], pats...)
	}
	for c, list := range lists {
		for _, p := range list {
			var sep []rune
			if Class(c) == ClassPath {
				sep = []rune{'/'}
			}
			g, err := glob.Compile(p, sep...)
			if err != nil {
				return nil, fmt.Errorf("%s: pattern %q: %w", Class(c), p, err)
			}
			out.globs[c] = append(out.globs[c], g)
		}
	}
	return out, nil
}

// Has reports whether class c is declared (an allowlist).
func (d *Declared) Has(c Class) bool { return d != nil && len(d.globs[c]) > 0 }

// Match reports whether target matches a pattern of class c.
func (d *Declared) Match(c Class, target string) bool {
	if d == nil {
		return false
	}
	for _, g := range d.globs[c] {
		if g.Match(target) {
			return true
		}
	}
	return false
}

// Merge returns the union of a and b (either may be nil).
func Merge(a, b *DeclaredSpec) *DeclaredSpec {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	return &DeclaredSpec{
		Hosts:        append(append([]string(nil), a.Hosts...), b.Hosts...),
		Paths:        append(append([]string(nil), a.Paths...), b.Paths...),
		Tables:       append(append([]string(nil), a.Tables...), b.Tables...),
		Capabilities: append(append([]string(nil), a.Capabilities...), b.Capabilities...),
		Libraries:    append(append([]string(nil), a.Libraries...), b.Libraries...),
		Roots:        append(append([]string(nil), a.Roots...), b.Roots...),
		Tools:        mergeTools(a.Tools, b.Tools),
		// The stricter cap wins.
		MaxEgressBytesPerInvocation: minCap(a.MaxEgressBytesPerInvocation, b.MaxEgressBytesPerInvocation),
		MaxEgressBytesPerMinute:     minCap(a.MaxEgressBytesPerMinute, b.MaxEgressBytesPerMinute),
	}
}

// minCap is the smaller of two caps where 0 means none.
func minCap(a, b int64) int64 {
	if a == 0 || (b != 0 && b < a) {
		return b
	}
	return a
}

// EgressCaps returns the per-invocation and per-minute caps (0 = none).
func (d *Declared) EgressCaps() (perInvocation, perMinute int64) {
	if d == nil {
		return 0, 0
	}
	return d.MaxEgressPerInvocation, d.MaxEgressPerMinute
}
