// Package secrets finds credentials in strings and replaces them with a
// marker naming the rule. A keyword prefilter runs once over each value;
// only the rules whose keywords occur there run their (RE2) regex, so the
// common value with no keyword costs one byte loop and no allocation.
package secrets

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/bits"
	"slices"
	"strings"

	"github.com/gobwas/glob"
)

// Options configure a Scanner.
type Options struct {
	// Rules are added after the built-in ones; a rule with a built-in
	// rule's name replaces it.
	Rules []Rule
	// Disable lists built-in rule names to switch off.
	Disable []string
	// NoBuiltin starts from an empty rule set (tests, benchmarks).
	NoBuiltin bool
	// AllowValues are glob patterns; a found secret matching one is kept.
	AllowValues []string
	// FingerprintKey, when set, appends a keyed HMAC-SHA256 fingerprint of
	// the secret to the marker, FingerprintLen hex characters long
	// (default 12), so one credential is recognisable across spans
	// without being revealed.
	FingerprintKey []byte
	FingerprintLen int
}

// Scanner is immutable and safe for concurrent use.
type Scanner struct {
	rules    []compiledRule
	markers  []string
	kw       *keywordIndex
	always   []int // rules without keywords
	allow    []glob.Glob
	fpKey    []byte
	fpLen    int
	maxRules int
}

// New compiles the rule set.
func New(opts Options) (*Scanner, error) {
	var rules []Rule
	if !opts.NoBuiltin {
		disabled := map[string]bool{}
		for _, d := range opts.Disable {
			disabled[d] = true
		}
		known := map[string]bool{}
		for _, r := range Builtin() {
			known[r.Name] = true
			if !disabled[r.Name] {
				rules = append(rules, r)
			}
		}
		for _, d := range opts.Disable {
			if !known[d] {
				return nil, fmt.Errorf("disable: %q is not a built-in rule name", d)
			}
		}
	}
	for _, ur := range opts.Rules {
		if i := slices.IndexFunc(rules, func(r Rule) bool { return r.Name == ur.Name }); i >= 0 {
			rules[i] = ur
		} else {
			rules = append(rules, ur)
		}
	}
	if len(rules) > maxRules {
		return nil, fmt.Errorf("rules: %d rules exceed the limit of %d", len(rules), maxRules)
	}
	s := &Scanner{kw: newKeywordIndex(), fpKey: opts.FingerprintKey, fpLen: opts.FingerprintLen}
	if s.fpLen <= 0 {
		s.fpLen = 12
	}
	if s.fpLen > 64 {
		return nil, fmt.Errorf("fingerprint length %d: at most 64 hex characters", s.fpLen)
	}
	seen := map[string]bool{}
	for i, r := range rules {
		cr, err := compileRule(r)
		if err != nil {
			return nil, err
		}
		if seen[r.Name] {
			return nil, fmt.Errorf("rule %q: defined twice; rule names must be unique", r.Name)
		}
		seen[r.Name] = true
		s.rules = append(s.rules, cr)
		s.markers = append(s.markers, "[REDACTED:"+r.Name)
		if len(r.Keywords) == 0 {
			s.always = append(s.always, i)
		}
		for _, k := range r.Keywords {
			s.kw.add(k, i)
		}
	}
	for _, p := range opts.AllowValues {
		g, err := glob.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("allow value %q: not a glob pattern: %w", p, err)
		}
		s.allow = append(s.allow, g)
	}
	return s, nil
}

// RuleNames lists the rules in index order (the index Scan counts by).
func (s *Scanner) RuleNames() []string {
	out := make([]string, len(s.rules))
	for i := range s.rules {
		out[i] = s.rules[i].Name
	}
	return out
}

// NumRules is the number of active rules.
func (s *Scanner) NumRules() int { return len(s.rules) }

// Scan returns v with every secret replaced by its marker and whether
// anything changed. counts, when non-nil (len NumRules), is incremented
// per redaction by rule index. A value with no keyword hit returns
// without allocating.
func (s *Scanner) Scan(v string, counts []uint64) (string, bool) {
	if len(v) < 3 {
		return v, false
	}
	var hits ruleSet
	if !s.kw.scan(v, &hits) && len(s.always) == 0 {
		return v, false
	}
	return s.scanSlow(v, &hits, counts)
}

type finding struct {
	start, end, rule int
}

func (s *Scanner) scanSlow(v string, hits *ruleSet, counts []uint64) (string, bool) {
	for _, i := range s.always {
		hits.set(i)
	}
	var fs []finding
	for w, word := range hits {
		for word != 0 {
			b := trailingZeros(word)
			word &^= 1 << b
			ri := w*64 + b
			if ri >= len(s.rules) {
				continue
			}
			fs = s.rules[ri].appendAll(v, ri, s.allowed, fs)
		}
	}
	if len(fs) == 0 {
		return v, false
	}
	// Earliest first; at one start the longest wins, so overlapping rules
	// yield one marker.
	slices.SortFunc(fs, func(a, b finding) int {
		if a.start != b.start {
			return a.start - b.start
		}
		return b.end - a.end
	})
	var b strings.Builder
	b.Grow(len(v))
	last := 0
	for i := 0; i < len(fs); {
		f := fs[i]
		end := f.end
		j := i + 1
		for j < len(fs) && fs[j].start < end {
			if fs[j].end > end {
				end = fs[j].end
			}
			j++
		}
		b.WriteString(v[last:f.start])
		b.WriteString(s.markers[f.rule])
		if s.fpKey != nil {
			b.WriteByte(':')
			b.WriteString(s.fingerprint(v[f.start:end]))
		}
		b.WriteByte(']')
		if counts != nil {
			counts[f.rule]++
		}
		last = end
		i = j
	}
	b.WriteString(v[last:])
	return b.String(), true
}

func (s *Scanner) allowed(secret string) bool {
	for _, g := range s.allow {
		if g.Match(secret) {
			return true
		}
	}
	return false
}

func (s *Scanner) fingerprint(secret string) string {
	m := hmac.New(sha256.New, s.fpKey)
	m.Write([]byte(secret))
	return hex.EncodeToString(m.Sum(nil))[:s.fpLen]
}

// Marker returns the marker for a whole value redacted under rule name
// (sensitive keys), fingerprinted like Scan's markers.
func (s *Scanner) Marker(name, secret string) string {
	if s.fpKey == nil {
		return "[REDACTED:" + name + "]"
	}
	return "[REDACTED:" + name + ":" + s.fingerprint(secret) + "]"
}

func trailingZeros(x uint64) int { return bits.TrailingZeros64(x) }
