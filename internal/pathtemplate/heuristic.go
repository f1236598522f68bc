package pathtemplate

import "strings"

// Heuristic templates a slash-separated path: every identifier-like segment
// becomes placeholder, and inside word-like segments, digit runs standing
// between separators (notes-12.json, 2024-01-05.log) become placeholder.
// It returns p itself, without allocating, when nothing changes.
func Heuristic(p, placeholder string) string {
	return heuristic(p, placeholder, nil)
}

// HeuristicWith is Heuristic with each identifier-like segment (and
// isolated digit run) replaced by repl(segment): a keyed hash keeps two
// paths of one user joinable without the user's id.
func HeuristicWith(p string, repl func(string) string) string {
	return heuristic(p, "", repl)
}

func heuristic(p, placeholder string, repl func(string) string) string {
	// Fast path: find the first segment that changes.
	start := 0
	for start <= len(p) {
		end := strings.IndexByte(p[start:], '/')
		if end < 0 {
			end = len(p)
		} else {
			end += start
		}
		seg := p[start:end]
		if seg != "" && segmentChanges(seg) {
			var b strings.Builder
			b.Grow(len(p))
			b.WriteString(p[:start])
			writeRest(&b, p[start:], placeholder, repl)
			return b.String()
		}
		start = end + 1
	}
	return p
}

func writeRest(b *strings.Builder, rest, placeholder string, repl func(string) string) {
	// Segment by segment without strings.Split's slice: this runs for
	// every templated path the baseline observes.
	for {
		seg, after, more := strings.Cut(rest, "/")
		writeSegment(b, seg, placeholder, repl)
		if !more {
			return
		}
		b.WriteByte('/')
		rest = after
	}
}

func writeReplaced(b *strings.Builder, s, placeholder string, repl func(string) string) {
	if repl != nil {
		b.WriteString(repl(s))
		return
	}
	b.WriteString(placeholder)
}

func segmentChanges(seg string) bool {
	return IsIdentifier(seg) || hasIsolatedDigits(seg)
}

func writeSegment(b *strings.Builder, seg, placeholder string, repl func(string) string) {
	if seg == "" {
		return
	}
	if IsIdentifier(seg) {
		writeReplaced(b, seg, placeholder, repl)
		return
	}
	// Replace isolated digit runs inside a word-like segment.
	i := 0
	for i < len(seg) {
		if isDigit(seg[i]) {
			j := i
			for j < len(seg) && isDigit(seg[j]) {
				j++
			}
			if isolated(seg, i, j) {
				writeReplaced(b, seg[i:j], placeholder, repl)
			} else {
				b.WriteString(seg[i:j])
			}
			i = j
			continue
		}
		b.WriteByte(seg[i])
		i++
	}
}

// isolated reports whether the digit run seg[i:j] is not glued to a letter
// (v1, ipv6 and utf8 stay; notes-12.json and 12.json change).
func isolated(seg string, i, j int) bool {
	return (i == 0 || !isLetter(seg[i-1])) && (j == len(seg) || !isLetter(seg[j]))
}

func hasIsolatedDigits(seg string) bool {
	for i := 0; i < len(seg); i++ {
		if isDigit(seg[i]) {
			j := i
			for j < len(seg) && isDigit(seg[j]) {
				j++
			}
			if isolated(seg, i, j) {
				return true
			}
			i = j
		}
	}
	return false
}

// IsIdentifier reports whether a path segment looks like an identifier
// rather than a word: all digits, a UUID, a hex string of 8+ characters
// with a digit, an email address, or a long token mixing letters and
// digits.
func IsIdentifier(seg string) bool {
	if seg == "" {
		return false
	}
	if allDigits(seg) {
		return true
	}
	if isUUID(seg) {
		return true
	}
	if strings.IndexByte(seg, '@') > 0 && strings.IndexByte(seg, '.') > 0 {
		return true // email
	}
	if len(seg) >= 8 && isHexWithDigit(seg) {
		return true
	}
	if len(seg) >= 16 && looksRandom(seg) {
		return true
	}
	return false
}

func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isLetter(c byte) bool { return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }
func isHex(c byte) bool    { return isDigit(c) || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F') }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !isHex(s[i]) {
				return false
			}
		}
	}
	return true
}

func isHexWithDigit(s string) bool {
	digit := false
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
		digit = digit || isDigit(s[i])
	}
	return digit
}

// looksRandom: a long token of letters, digits, '-' and '_' with at least
// two digits and both letter cases or digits spread through it.
func looksRandom(s string) bool {
	var digits, upper, lower int
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isDigit(c):
			digits++
		case 'a' <= c && c <= 'z':
			lower++
		case 'A' <= c && c <= 'Z':
			upper++
		case c == '-' || c == '_':
		default:
			return false
		}
	}
	return digits >= 2 && (lower+upper) > 0 && (upper > 0 && lower > 0 || digits*4 >= len(s))
}
