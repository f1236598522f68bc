// Package procstat reads a process's CPU time and memory from /proc, for
// the benchmark harness and the soak tests.
package procstat

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// CPUSeconds returns the user+system CPU time pid has used.
func CPUSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	// Fields after the parenthesised command name: state is field 0,
	// utime 11 and stime 12, in clock ticks (USER_HZ = 100 on Linux).
	s = s[strings.LastIndexByte(s, ')')+2:]
	f := strings.Fields(s)
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100, nil
}

// RSSMiB returns the resident set size of pid and its peak, in MiB.
func RSSMiB(pid int) (cur, peak float64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmRSS:":
			cur = v / 1024
		case "VmHWM:":
			peak = v / 1024
		}
	}
	return cur, peak
}

// ThreadCPU is the CPU time the calling OS thread has used (lock the
// goroutine to its thread first): a benchmark's own cost on a machine
// shared with other work, where wall time measures the neighbours too.
func ThreadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		panic(err)
	}
	return time.Duration(ts.Nano())
}
