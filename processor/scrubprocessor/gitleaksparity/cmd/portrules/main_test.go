package main

import (
	"bytes"
	"os"
	"testing"
)

// The generated rules match gitleaks' config and the port list: after a
// gitleaks upgrade or a list change, run `go run ./cmd/portrules`.
func TestGeneratedFileUpToDate(t *testing.T) {
	out, builtin = "../../"+out, "../../"+builtin
	want, err := render()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale: run go run ./cmd/portrules in processor/scrubprocessor/gitleaksparity", out)
	}
}
