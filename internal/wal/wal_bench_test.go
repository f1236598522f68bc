package wal

import (
	"sync"
	"testing"
)

// BenchmarkAppend: 8 concurrent appenders of 128 KiB records (about a
// 500-span OTLP request) sharing group commits, under each sync policy;
// a reader releases behind them once per 4 MiB, as the exporter does.
func BenchmarkAppend(b *testing.B) {
	for _, s := range []Sync{SyncInterval, SyncAlways} {
		b.Run(string(s), func(b *testing.B) {
			l, _, err := Open(Options{Dir: b.TempDir(), MaxBytes: 1 << 40, SegmentBytes: 64 << 20, Sync: s})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			rec := make([]byte, 128<<10)
			stop := make(chan struct{})
			var rd sync.WaitGroup
			rd.Add(1)
			go func() {
				defer rd.Done()
				r := l.Reader()
				defer r.Close()
				var buf []byte
				for n := 1; ; n++ {
					p, end, ok, _ := r.Next(buf)
					if ok {
						buf = p
						if n%32 == 0 { // as the exporter does: once per block
							_ = l.Release(end)
						}
						continue
					}
					select {
					case <-l.Notify():
					case <-stop:
						return
					}
				}
			}()
			b.SetBytes(int64(len(rec)))
			b.ReportAllocs()
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := l.Append(rec); err != nil {
						b.Error(err)
						return
					}
				}
			})
			close(stop)
			rd.Wait()
		})
	}
}
