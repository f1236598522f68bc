// Package pathtemplate turns concrete file paths and URL paths into
// templates: operator-supplied glob templates first, then a heuristic that
// replaces identifier-like segments (numbers, UUIDs, hex strings, emails,
// long random tokens) and leaves word-like segments alone. The scrub
// processor uses it to keep personal data off the hot path, and the
// baseline connector uses it so that novelty is judged on templates.
package pathtemplate
