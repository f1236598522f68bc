package archive

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Encoding of an object's payload.
type Encoding string

const (
	EncodingProto Encoding = "proto" // OTLP protobuf (TracesData / LogsData)
	EncodingJSON  Encoding = "json"  // OTLP JSON
)

// Compression of an object.
type Compression string

const (
	CompressionZstd Compression = "zstd"
	CompressionGzip Compression = "gzip"
	CompressionNone Compression = "none"
	// CompressionS2 is klauspost/compress's S2 stream format (a faster
	// Snappy, framed in blocks of 1 MiB, so compressing a large catalog
	// takes 1 MiB of working memory): the operator's trade of stored
	// bytes for CPU.
	CompressionS2 Compression = "s2"
)

// compressions is every compression a reader recognises.
var compressions = []Compression{CompressionNone, CompressionGzip, CompressionZstd, CompressionS2}

// Ext is the file extension of a compression ("" for none).
func (c Compression) Ext() string {
	switch c {
	case CompressionZstd:
		return ".zst"
	case CompressionGzip:
		return ".gz"
	case CompressionS2:
		return ".s2"
	}
	return ""
}

// Format is an encoding plus a compression.
type Format struct {
	Encoding    Encoding
	Compression Compression
}

// DefaultFormat is OTLP protobuf compressed with zstd.
var DefaultFormat = Format{Encoding: EncodingProto, Compression: CompressionZstd}

// Validate names the field at fault.
func (f Format) Validate() error {
	var errs []error
	if f.Encoding != EncodingProto && f.Encoding != EncodingJSON {
		errs = append(errs, fmt.Errorf("encoding: %q is not one of proto, json", f.Encoding))
	}
	switch f.Compression {
	case CompressionZstd, CompressionGzip, CompressionNone, CompressionS2:
	default:
		errs = append(errs, fmt.Errorf("compression: %q is not one of zstd, gzip, s2, none", f.Compression))
	}
	return errors.Join(errs...)
}

// Ext is the object key suffix: ".pb.zst", ".json.gz", ".pb", ...
func (f Format) Ext() string {
	e := ".pb"
	if f.Encoding == EncodingJSON {
		e = ".json"
	}
	return e + f.Compression.Ext()
}

// ContentType of an object before compression.
func (f Format) ContentType() string {
	if f.Encoding == EncodingJSON {
		return "application/json"
	}
	return "application/x-protobuf"
}

// ParseFormatExt parses "pb.zst", "json", "json.gz" (no leading dot).
func ParseFormatExt(s string) (Format, error) {
	enc, comp, _ := strings.Cut(s, ".")
	var f Format
	switch enc {
	case "pb":
		f.Encoding = EncodingProto
	case "json":
		f.Encoding = EncodingJSON
	default:
		return f, fmt.Errorf("unknown encoding extension %q", enc)
	}
	switch comp {
	case "zst":
		f.Compression = CompressionZstd
	case "gz":
		f.Compression = CompressionGzip
	case "s2":
		f.Compression = CompressionS2
	case "":
		f.Compression = CompressionNone
	default:
		return f, fmt.Errorf("unknown compression extension %q", comp)
	}
	return f, nil
}

// MaxDecodedBytes bounds what one object may decompress to, so a hostile or
// corrupt object cannot exhaust a reader's memory.
const MaxDecodedBytes = 256 << 20

var (
	zstdEncOnce sync.Once
	zstdEnc     *zstd.Encoder
	zstdDecOnce sync.Once
	zstdDec     *zstd.Decoder
	gzipWriters = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed); return w }}
	s2Writers   = sync.Pool{New: func() any { return s2.NewWriter(nil, s2.WriterConcurrency(1)) }}
)

func encoder() *zstd.Encoder {
	zstdEncOnce.Do(func() {
		// EncodeAll is safe for concurrent use; concurrency bounds the
		// encoder state kept around. Objects are small (one trace), so the
		// per-call setup dominates: SpeedFastest with a 1 MiB window.
		zstdEnc, _ = zstd.NewWriter(nil, zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)),
			zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithWindowSize(1<<20), zstd.WithLowerEncoderMem(true))
	})
	return zstdEnc
}

func decoder() *zstd.Decoder {
	zstdDecOnce.Do(func() {
		zstdDec, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0),
			zstd.WithDecoderMaxMemory(MaxDecodedBytes), zstd.WithDecoderMaxWindow(64<<20))
	})
	return zstdDec
}

// compress appends the compressed form of raw to dst.
func compress(c Compression, dst, raw []byte) ([]byte, error) {
	switch c {
	case CompressionZstd:
		return encoder().EncodeAll(raw, dst), nil
	case CompressionGzip:
		return compressStream(&gzipWriters, dst, raw)
	case CompressionS2:
		// The stream format, in 1 MiB blocks: a catalog of tens of MiB
		// (a unique-trace-id flood) is compressed with 1 MiB of working
		// memory, where the block format wants its worst case at once.
		return compressStream(&s2Writers, dst, raw)
	}
	return append(dst, raw...), nil
}

// streamWriter is what gzip's and s2's writers have in common.
type streamWriter interface {
	io.WriteCloser
	Reset(io.Writer)
}

// compressStream appends raw compressed by a pooled stream writer to dst.
func compressStream(pool *sync.Pool, dst, raw []byte) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	w := pool.Get().(streamWriter)
	defer pool.Put(w)
	w.Reset(buf)
	if _, err := w.Write(raw); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// decompress returns the decompressed payload, at most MaxDecodedBytes.
func decompress(c Compression, data []byte) ([]byte, error) {
	switch c {
	case CompressionZstd:
		out, err := decoder().DecodeAll(data, nil)
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		return out, nil
	case CompressionGzip:
		r, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		out, err := io.ReadAll(io.LimitReader(r, MaxDecodedBytes+1))
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		if len(out) > MaxDecodedBytes {
			return nil, fmt.Errorf("gzip: object decompresses to more than %d bytes", MaxDecodedBytes)
		}
		return out, nil
	case CompressionS2:
		out, err := io.ReadAll(io.LimitReader(s2.NewReader(bytes.NewReader(data)), MaxDecodedBytes+1))
		if err != nil {
			return nil, fmt.Errorf("s2: %w", err)
		}
		if len(out) > MaxDecodedBytes {
			return nil, fmt.Errorf("s2: object decompresses to more than %d bytes", MaxDecodedBytes)
		}
		return out, nil
	}
	return data, nil
}

// DecodeTraces parses a page of spans (see block.go).
func DecodeTraces(f Format, data []byte) (ptrace.Traces, error) {
	raw, err := decompress(f.Compression, data)
	if err != nil {
		return ptrace.Traces{}, err
	}
	if f.Encoding == EncodingJSON {
		return (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(raw)
	}
	return (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(raw)
}

// DecodeLogs parses a page of log records.
func DecodeLogs(f Format, data []byte) (plog.Logs, error) {
	raw, err := decompress(f.Compression, data)
	if err != nil {
		return plog.Logs{}, err
	}
	if f.Encoding == EncodingJSON {
		return (&plog.JSONUnmarshaler{}).UnmarshalLogs(raw)
	}
	return (&plog.ProtoUnmarshaler{}).UnmarshalLogs(raw)
}
