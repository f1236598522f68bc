// Package secrets finds credentials in strings and replaces them with a
// marker naming the rule. A keyword pass runs once over each value and
// yields the positions a credential can start at; there, a rule compiled
// from its regexp/syntax tree into a sequence matcher (seq.go) matches in
// place, and any other rule runs its lean RE2 regex (lean.go) anchored at
// the hit or on a window around it. A value with no keyword costs one
// byte loop and no allocation.
package secrets

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
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
	rules   []compiledRule
	markers []string
	kw      *keywordIndex
	always  []int // rules without keywords
	allow   []glob.Glob
	fpKey   []byte
	fpLen   int
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
// per redaction by rule index. One keyword pass over v finds the
// candidate positions; at each, a rule compiled to a sequence matcher
// matches in place, and a regex rule is noted for after the pass (see
// hit). Nothing allocates unless a regex matches or v changes.
//
// A value holding JSON escapes (\u0041KIA..., https:\/\/..., a JSON
// document nested in a JSON string) is also read decoded, and what is
// found there is redacted in place (see jsonescape.go).
func (s *Scanner) Scan(v string, counts []uint64) (string, bool) {
	if len(v) < 3 {
		return v, false
	}
	var fbuf [8]finding
	json := jsonShaped(v)
	var rawHits, decHits keywordHits
	var hp *keywordHits
	if json {
		hp = &rawHits
	}
	fs := s.findHits(v, fbuf[:0], hp)
	dec, offs := decodeJSONEscapes(v)
	if dec != "" {
		// Raw findings widen to whole escape sequences; the decoded
		// form's findings map back to them.
		for i := range fs {
			fs[i].start, fs[i].end = snapToEscapes(offs, fs[i].start, fs[i].end)
		}
		n := len(fs)
		if json {
			hp = &decHits
		}
		fs = s.findHits(dec, fs, hp)
		for i := n; i < len(fs); i++ {
			fs[i].start, fs[i].end = int(offs[fs[i].start]), int(offs[fs[i].end])
		}
	}
	if json {
		fs = s.findInJSONStrings(v, dec, offs, fs, &rawHits, &decHits)
	}
	if len(fs) == 0 {
		return v, false
	}
	if json {
		fs = clampToJSONStrings(v, fs)
	}
	return s.redact(v, fs, counts), true
}

// find appends to fs the secrets in v.
func (s *Scanner) find(v string, fs []finding) []finding {
	return s.findHits(v, fs, nil)
}

// keywordHits records where keywords occur (up to len(pos); beyond, all
// is set), so that a second pass can limit itself to the parts of a value
// that hold one.
type keywordHits struct {
	pos [16]int
	n   int
	all bool
}

func (h *keywordHits) add(i int) {
	if h.n < len(h.pos) {
		h.pos[h.n] = i
		h.n++
	} else {
		h.all = true
	}
}

// within reports whether a keyword occurs in [lo, hi).
func (h *keywordHits) within(lo, hi int) bool {
	if h.all {
		return true
	}
	for _, p := range h.pos[:h.n] {
		if lo <= p && p < hi {
			return true
		}
	}
	return false
}

// findHits is find that also records the keyword positions in hits
// (when not nil).
func (s *Scanner) findHits(v string, fs []finding, hits *keywordHits) []finding {
	if len(v) < 3 {
		return fs
	}
	var pbuf [8]pending
	ps := pbuf[:0]
	var done ruleSet
	if hits != nil && len(s.always) > 0 {
		hits.all = true // a rule without keywords may match anywhere
	}
	for i := s.kw.next(v, 0); i >= 0; i = s.kw.next(v, i+1) {
		if hits != nil {
			hits.add(i)
		}
		single, bucket := s.kw.at(v, i)
		for _, r := range single {
			fs, ps = s.hit(v, i, 1, r, fs, ps, &done)
		}
		for bi := range bucket {
			e := &bucket[bi]
			if !hasPrefixFold(v[i:], e.kw) {
				continue
			}
			for _, r := range e.rules {
				fs, ps = s.hit(v, i, len(e.kw), r, fs, ps, &done)
			}
		}
	}
	for _, r := range s.always {
		ps = append(ps, pending{rule: r, hi: len(v)})
	}
	return s.runPending(v, ps, fs)
}

type finding struct {
	start, end, rule int
}

// pending is a regex rule to run after the keyword pass: anchored at lo,
// or on the window [lo, hi); val is where the assigned value starts
// (assignment-shaped rules).
type pending struct {
	rule, lo, hi, val int
	anchored          bool
}

// hit handles rule ri at a keyword hit v[pos:pos+kwLen]. Hand-coded and
// sequence rules run at once; regex rules are deferred (pending), so that
// a regex whose hit, or whose assigned value, lies in a secret found
// already is not run at all: in api_key=sk_live_..., the query-parameter
// and Stripe rules have the secret before gitleaks' generic rule, costlier
// by far, would look at it.
func (s *Scanner) hit(v string, pos, kwLen, ri int, fs []finding, ps []pending, done *ruleSet) ([]finding, []pending) {
	cr := &s.rules[ri]
	switch {
	case cr.find != nil:
		if !done.has(ri) {
			done.set(ri)
			fs = s.appendFind(v, ri, fs)
		}
	case cr.seq != nil:
		// Of a rule's branches, the longest match: context the branches
		// dropped would have chosen it.
		best := finding{rule: -1}
		for _, m := range cr.seq {
			if st, en, ok := m.match(v, pos); ok && en-st > best.end-best.start && s.accept(cr, v[st:en]) {
				best = finding{st, en, ri}
			}
		}
		if best.rule >= 0 {
			fs = append(fs, best)
		}
	default:
		if covered(fs, pos) {
			break
		}
		val := pos
		if cr.assign {
			if val = assignedValue(v, pos+kwLen); val < 0 {
				break
			}
		}
		if cr.anch != nil {
			ps = append(ps, pending{rule: ri, lo: pos, hi: len(v), val: val, anchored: true})
			break
		}
		lo, hi := 0, len(v)
		if cr.width >= 0 {
			lo, hi = max(0, pos-cr.width-1), min(len(v), pos+kwLen+cr.width+1)
		}
		for k := range ps {
			if ps[k].rule == ri && !ps[k].anchored && lo <= ps[k].hi {
				ps[k].lo, ps[k].hi = min(ps[k].lo, lo), max(ps[k].hi, hi)
				ps[k].val = max(ps[k].val, val)
				return fs, ps
			}
		}
		ps = append(ps, pending{rule: ri, lo: lo, hi: hi, val: val})
	}
	return fs, ps
}

// covered reports whether byte i lies in one of the latest findings. It is
// an optimisation only (a hit it misses is scanned, not lost), so it looks
// at a few, which keeps a value with thousands of secrets linear.
func covered(fs []finding, i int) bool {
	for _, f := range fs[max(0, len(fs)-8):] {
		if f.start <= i && i < f.end {
			return true
		}
	}
	return false
}

// runPending runs the deferred regex rules, skipping those whose value
// a finding already covers.
func (s *Scanner) runPending(v string, ps []pending, fs []finding) []finding {
	for _, p := range ps {
		cr := &s.rules[p.rule]
		if cr.assign && covered(fs, p.val) {
			continue
		}
		if !p.anchored {
			fs = s.appendRegex(v, p.lo, p.hi, p.rule, fs)
			continue
		}
		w := v[p.lo:]
		if !cr.anch.MatchString(w) {
			continue
		}
		m := cr.anch.FindStringSubmatchIndex(w)
		if st, en, ok := cr.secret(m); ok && s.accept(cr, w[st:en]) {
			fs = append(fs, finding{p.lo + st, p.lo + en, p.rule})
		}
	}
	return fs
}

// accept applies a rule's entropy floor and check, and the allow-list.
func (s *Scanner) accept(cr *compiledRule, sec string) bool {
	if cr.Entropy > 0 && shannon(sec) < cr.Entropy {
		return false
	}
	if cr.check != nil && !cr.check(sec) {
		return false
	}
	return !s.allowed(sec)
}

// appendFind appends the secrets of a hand-coded rule.
func (s *Scanner) appendFind(v string, ri int, fs []finding) []finding {
	cr := &s.rules[ri]
	for off := 0; off < len(v); {
		st, en, next, ok := cr.find(v, off)
		if !ok {
			break
		}
		if s.accept(cr, v[st:en]) {
			fs = append(fs, finding{st, en, ri})
		}
		off = next
	}
	return fs
}

// appendRegex appends the secrets the regex finds in v[lo:hi]. A window
// without a match costs no allocation (MatchString); a match costs the
// submatch slice. The search resumes at each secret's start, not
// after the match: a match may swallow the key of the next secret (in
// "auth failed: token=...", gitleaks' generic rule matches from "auth"),
// and that secret must be found too.
func (s *Scanner) appendRegex(v string, lo, hi, ri int, fs []finding) []finding {
	cr := &s.rules[ri]
	if !cr.re.MatchString(v[lo:hi]) {
		return fs
	}
	for from := lo; from < hi; {
		m := cr.re.FindStringSubmatchIndex(v[from:hi])
		if m == nil {
			break
		}
		st, en, ok := cr.secret(m)
		if !ok {
			st, en = m[0], m[1] // no secret: move past the match
			if en <= st {
				en = st + 1
			}
			from += en
			continue
		}
		if s.accept(cr, v[from+st:from+en]) {
			fs = append(fs, finding{from + st, from + en, ri})
		}
		from += max(st, 1)
	}
	return fs
}

// secret picks the secret's bounds out of a submatch index.
func (cr *compiledRule) secret(m []int) (st, en int, ok bool) {
	st, en = m[2*cr.group], m[2*cr.group+1]
	if cr.firstGroup {
		for g := 1; 2*g+1 < len(m); g++ {
			if m[2*g] >= 0 && m[2*g+1] > m[2*g] {
				st, en = m[2*g], m[2*g+1]
				break
			}
		}
	}
	return st, en, st >= 0 && en > st
}

// redact writes v with the findings replaced by markers: earliest first;
// at one start the longest wins, and overlapping findings yield one
// marker.
func (s *Scanner) redact(v string, fs []finding, counts []uint64) string {
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
		if f.end <= f.start { // emptied by clampToJSONStrings
			i++
			continue
		}
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
	return b.String()
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

// Fingerprints reports whether markers carry a keyed fingerprint (else a
// whole-value marker is the same string every time).
func (s *Scanner) Fingerprints() bool { return s.fpKey != nil }

// Marker returns the marker for a whole value redacted under rule name
// (sensitive keys), fingerprinted like Scan's markers.
func (s *Scanner) Marker(name, secret string) string {
	if s.fpKey == nil {
		return "[REDACTED:" + name + "]"
	}
	return "[REDACTED:" + name + ":" + s.fingerprint(secret) + "]"
}
