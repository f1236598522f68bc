package secrets

// SecretGroupOf exposes a ported rule's gitleaks secretGroup to the
// external tests.
func SecretGroupOf(r Rule) int { return r.secretGroup }
