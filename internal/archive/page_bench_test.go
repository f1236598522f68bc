package archive

import (
	"bytes"
	"runtime"
	"strconv"
	"testing"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"

	"github.com/sandwatch/sandwatch/internal/archive/otlppage"
)

// BenchmarkPageSize cuts a 16,384-span batch of each mix into pages of
// several sizes and compresses them as blocks are: CPU per span, stored
// bytes per span, and what a lookup pays to decode one page.
func BenchmarkPageSize(b *testing.B) {
	variants := []struct {
		name string
		enc  *zstd.Encoder
	}{{"today", encoder()}}
	for _, o := range []struct {
		name string
		opts []zstd.EOption
	}{
		{"fullmem", []zstd.EOption{zstd.WithLowerEncoderMem(false)}},
		{"nocrc", []zstd.EOption{zstd.WithEncoderCRC(false)}},
		{"noentropy", []zstd.EOption{zstd.WithNoEntropyCompression(true)}},
		{"window128k", []zstd.EOption{zstd.WithWindowSize(128 << 10)}},
	} {
		opts := append([]zstd.EOption{zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)),
			zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithWindowSize(1 << 20), zstd.WithLowerEncoderMem(true)}, o.opts...)
		e, err := zstd.NewWriter(nil, opts...)
		if err != nil {
			b.Fatal(err)
		}
		variants = append(variants, struct {
			name string
			enc  *zstd.Encoder
		}{o.name, e})
	}
	for _, mix := range benchMixes {
		batch := mixBatch(b, mix.ratio)
		spans := float64(batch.Len())
		for _, size := range []int{128 << 10, 256 << 10, 512 << 10, 1 << 20} {
			var pages [][]byte
			var pg otlppage.Pager
			if _, err := pg.Paginate(batch.Raw, size, func(p []byte) error { pages = append(pages, bytes.Clone(p)); return nil }); err != nil {
				b.Fatal(err)
			}
			for _, v := range variants {
				if v.name != "today" && size != 128<<10 {
					continue
				}
				name := mix.name + "/" + strconv.Itoa(size>>10) + "KiB/" + v.name
				var out []byte
				b.Run(name+"/encode", func(b *testing.B) {
					for b.Loop() {
						out = out[:0]
						for _, p := range pages {
							out = v.enc.EncodeAll(p, out)
						}
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/spans, "ns/span")
					b.ReportMetric(float64(len(out))/spans, "B/span")
				})
				if v.name != "today" {
					continue
				}
				if size == 128<<10 {
					b.Run(name[:len(name)-len("today")]+"s2/encode", func(b *testing.B) {
						var out []byte
						for b.Loop() {
							out = out[:0]
							for _, p := range pages {
								out = append(out, s2.Encode(nil, p)...)
							}
						}
						b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/spans, "ns/span")
						b.ReportMetric(float64(len(out))/spans, "B/span")
					})
				}
				one := v.enc.EncodeAll(pages[len(pages)/2], nil)
				b.Run(name+"/lookup-decode", func(b *testing.B) {
					for b.Loop() {
						if _, err := DecodeTraces(DefaultFormat, one); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(len(one)), "page-B")
				})
			}
		}
	}
}
