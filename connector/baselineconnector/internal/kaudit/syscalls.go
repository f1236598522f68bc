package kaudit

import "strings"

// op is what a syscall does, for the cross-check.
type op int

const (
	opOther op = iota
	opOpen
	opExec
	opConnect
	opSocketcall // i386 and arm multiplex connect through socketcall(2); a0 says which
)

// Audit architectures (AUDIT_ARCH_*: the ELF machine, 64-bit and
// little-endian bits) and their ausearch -i / enriched names.
const (
	archX8664   = "c000003e"
	archAArch64 = "c00000b7"
	archI386    = "40000003"
	archARM     = "40000028"
	archRISCV64 = "c00000f3"
)

var archNames = map[string]string{
	"x86_64": archX8664, "aarch64": archAArch64, "i386": archI386, "i686": archI386,
	"arm": archARM, "armeb": archARM, "armv7l": archARM, "riscv64": archRISCV64,
}

// syscallNames holds the numbers of the syscalls the cross-check reads on
// each architecture (from the kernel's tables, as auditd's lib/*_table.h
// carry them). aarch64 and riscv64 share the generic table: no open or
// creat there.
var syscallNames = map[string]map[string]string{
	archX8664: {"2": "open", "85": "creat", "257": "openat", "437": "openat2", "304": "open_by_handle_at",
		"42": "connect", "59": "execve", "322": "execveat"},
	archAArch64: {"56": "openat", "437": "openat2", "265": "open_by_handle_at", "203": "connect", "221": "execve", "281": "execveat"},
	archRISCV64: {"56": "openat", "437": "openat2", "265": "open_by_handle_at", "203": "connect", "221": "execve", "281": "execveat"},
	archI386: {"5": "open", "8": "creat", "295": "openat", "437": "openat2", "342": "open_by_handle_at",
		"362": "connect", "102": "socketcall", "11": "execve", "358": "execveat"},
	archARM: {"5": "open", "8": "creat", "322": "openat", "437": "openat2", "371": "open_by_handle_at",
		"283": "connect", "102": "socketcall", "11": "execve", "387": "execveat"},
}

// uringOps are the io_uring operations audited as URINGOP records (the
// kernel's IORING_OP_* numbers; auditd's uringop_table.h).
var uringOps = map[string]string{"18": "openat", "28": "openat2", "16": "connect"}

// syscallOf names a SYSCALL record's call: the enriched SYSCALL= field,
// else syscall= as a name (ausearch -i), else the number on its arch.
func syscallOf(r *record) string {
	if n := r.enrichedStr("SYSCALL"); n != "" {
		return n
	}
	n := r.str("syscall")
	if n == "" || n[0] < '0' || n[0] > '9' {
		return n
	}
	arch := strings.ToLower(r.str("arch"))
	if a, ok := archNames[arch]; ok {
		arch = a
	}
	return syscallNames[arch][n]
}

func opOf(name string) op {
	switch name {
	case "open", "openat", "openat2", "creat", "open_by_handle_at":
		return opOpen
	case "execve", "execveat":
		return opExec
	case "connect":
		return opConnect
	case "socketcall":
		return opSocketcall
	}
	return opOther
}

// socketcallConnect: socketcall's first argument is the call, 3 for
// SYS_CONNECT (hex in the raw log, "connect" in ausearch -i).
func socketcallConnect(a0 string) bool { return a0 == "3" || a0 == "connect" }

// relativeToDirfd reports whether an *at call's dirfd (a0) is a real
// descriptor rather than AT_FDCWD (-100, logged as ffffff9c or
// ffffffffffffff9c; "AT_FDCWD" in ausearch -i).
func relativeToDirfd(a0 string) bool {
	switch strings.ToLower(a0) {
	case "", "ffffff9c", "ffffffffffffff9c", "at_fdcwd":
		return false
	}
	return true
}
