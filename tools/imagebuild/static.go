package main

import (
	"debug/elf"
	"fmt"
)

// checkStatic refuses a binary that needs a dynamic loader: the image has
// no libc, so such a binary would fail at exec with a confusing "no such
// file or directory". The collector builder compiles with CGO_ENABLED=0.
func checkStatic(file string) error {
	f, err := elf.Open(file)
	if err != nil {
		return fmt.Errorf("--binary %s: not an ELF executable: %w", file, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("--binary %s is dynamically linked (it has an ELF interpreter): build it with CGO_ENABLED=0", file)
		}
	}
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return fmt.Errorf("--binary %s: ELF type %s is not an executable", file, f.Type)
	}
	return nil
}

// goarch maps the binary's ELF machine to the image platform's
// architecture, so the image never claims a platform its binary is not.
func goarch(file string) (string, error) {
	f, err := elf.Open(file)
	if err != nil {
		return "", fmt.Errorf("--binary %s: %w", file, err)
	}
	defer f.Close()
	switch f.Machine {
	case elf.EM_X86_64:
		return "amd64", nil
	case elf.EM_AARCH64:
		return "arm64", nil
	default:
		return "", fmt.Errorf("--binary %s: machine %s is not amd64 or arm64", file, f.Machine)
	}
}
