package procstat

import (
	"os"
	"testing"
)

func TestSelf(t *testing.T) {
	// Burn a little CPU so the counter moves off zero.
	x := 0
	for i := 0; i < 50_000_000; i++ {
		x += i % 7
	}
	_ = x
	cpu, err := CPUSeconds(os.Getpid())
	if err != nil || cpu <= 0 {
		t.Fatalf("cpu=%v err=%v", cpu, err)
	}
	cur, peak := RSSMiB(os.Getpid())
	if cur <= 0 || peak < cur {
		t.Fatalf("rss=%v peak=%v", cur, peak)
	}
}
