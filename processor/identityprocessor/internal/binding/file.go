package binding

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"
)

// fileDoc is a bindings file: `identities:` with the entries of the
// processor's `bindings:` and nothing else (unknown keys are errors).
type fileDoc struct {
	Identities []Entry `yaml:"identities"`
}

// maxFileBytes bounds what a reload reads.
const maxFileBytes = 4 << 20

// Parse decodes and validates a bindings file's content.
func Parse(name string, data []byte, fwd Forwarders) (*Set, error) {
	var doc fileDoc
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("bindings file %s: %w", name, err)
	}
	if len(doc.Identities) == 0 {
		return nil, fmt.Errorf("bindings file %s: no identities (write `identities:` with at least one entry)", name)
	}
	s, err := Compile(name+": identities", doc.Identities, fwd)
	if err != nil {
		return nil, fmt.Errorf("bindings file %s: %w", name, err)
	}
	return s, nil
}

// File reads a bindings file and tells whether its content changed since
// the last successful read.
type File struct {
	Path string
	Fwd  Forwarders
	sum  [sha256.Size]byte
	read bool
}

// Load reads and parses the file. changed is false (and s nil) when the
// content is what was last loaded. On an error the last good content
// stays the reference, so a bad edit is reported once per change.
func (f *File) Load() (s *Set, changed bool, err error) {
	fh, err := os.Open(f.Path)
	if err != nil {
		return nil, false, fmt.Errorf("bindings file: %w", err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxFileBytes+1))
	if err != nil {
		return nil, false, fmt.Errorf("bindings file %s: %w", f.Path, err)
	}
	if len(data) > maxFileBytes {
		return nil, false, fmt.Errorf("bindings file %s: larger than %d bytes", f.Path, maxFileBytes)
	}
	sum := sha256.Sum256(data)
	if f.read && sum == f.sum {
		return nil, false, nil
	}
	s, err = Parse(f.Path, data, f.Fwd)
	if err != nil {
		return nil, true, err
	}
	f.sum, f.read = sum, true
	return s, true, nil
}
