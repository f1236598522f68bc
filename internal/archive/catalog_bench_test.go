package archive

import (
	"context"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"

	"github.com/sandwatch/sandwatch/internal/simulate"
)

// mixBatch is a 16,384-span batch of the simulator's mix (200
// extensions), with a third of the spans turned into credential-carrying
// HTTP calls when secretRatio is 0.33 (the secret-heavy mix).
func mixBatch(b testing.TB, secretRatio float64) *Batch {
	g := simulate.New(simulate.Options{Seed: 1, Extensions: 200})
	td, _ := g.Batch(0, 16384, time.Now())
	if secretRatio > 0 {
		simulate.AddSecrets(td, secretRatio, 1)
	}
	batch, err := EncodeTraces(td, Extensions{})
	if err != nil {
		b.Fatal(err)
	}
	return batch
}

var benchMixes = []struct {
	name  string
	ratio float64
}{{"simulator", 0}, {"secret-heavy", 0.33}}

// catalogLines renders the catalog of one block of batch, uncompressed.
func catalogLines(b testing.TB, batch *Batch) []byte {
	blk, err := encodeBlock(DefaultFormat, batch)
	if err != nil {
		b.Fatal(err)
	}
	keys := newWriteKeys(time.Now(), KindSpans, DefaultFormat, false)
	entries, _ := catalogEntries(blk, keys.Block, KindSpans, time.Now())
	raw, err := encodeIndex(Format{Encoding: EncodingProto, Compression: CompressionNone}, entries)
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

// BenchmarkCatalogCodec compresses one block's catalog with each codec
// tried for catalogs: ns/span and stored bytes/span of the catalog.
func BenchmarkCatalogCodec(b *testing.B) {
	for _, mix := range benchMixes {
		batch := mixBatch(b, mix.ratio)
		raw := catalogLines(b, batch)
		dict := raw[:min(len(raw), 32<<10)] // a raw-content dictionary: catalog lines of another block
		dictEnc, _ := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedFastest),
			zstd.WithWindowSize(1<<20), zstd.WithLowerEncoderMem(true), zstd.WithEncoderDictRaw(1, dict))
		other := catalogLines(b, mixBatch(b, mix.ratio)) // the same mix, another write's keys and times
		codecs := []struct {
			name string
			enc  func(dst []byte) []byte
		}{
			{"zstd", func(dst []byte) []byte { return encoder().EncodeAll(raw, dst) }},
			{"zstd-dict", func(dst []byte) []byte { return dictEnc.EncodeAll(other, dst) }},
			{"s2", func(dst []byte) []byte { return s2.Encode(dst[:cap(dst)], raw) }},
			{"s2-stream", func(dst []byte) []byte { out, _ := compress(CompressionS2, dst, raw); return out }},
			{"s2-better", func(dst []byte) []byte { return s2.EncodeBetter(dst[:cap(dst)], raw) }},
			{"none", func(dst []byte) []byte { return append(dst, raw...) }},
		}
		for _, c := range codecs {
			b.Run(mix.name+"/"+c.name, func(b *testing.B) {
				dst := make([]byte, 0, s2.MaxEncodedLen(len(raw)))
				var out []byte
				for b.Loop() {
					out = c.enc(dst[:0])
				}
				spans := float64(batch.Len())
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/spans, "ns/span")
				b.ReportMetric(float64(len(out))/spans, "B/span")
				b.ReportMetric(float64(len(raw))/spans, "raw-B/span")
			})
		}
	}
	_ = context.Background
}
