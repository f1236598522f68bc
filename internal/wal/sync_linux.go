package wal

import (
	"os"
	"syscall"
)

// fdatasync flushes the data (and the size), not the other metadata.
func fdatasync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }
