package forensicexporter

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exporterhelper/xexporterhelper"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	pdatareq "go.opentelemetry.io/collector/pdata/xpdata/request"

	"github.com/sandwatch/sandwatch/internal/archive"
)

// batchRequest is the sending queue's unit: an archive.Batch, marshaled
// once when the exporter accepts the data. The queue persists its bytes,
// the batcher merges and splits them without decoding, and the write cuts
// pages out of them: no span is decoded into pdata and encoded again on
// its way to the archive (with the stock pdata request, the persistent
// queue marshals, unmarshals, and the writer marshals once more).
type batchRequest struct{ b *archive.Batch }

var _ xexporterhelper.Request = (*batchRequest)(nil)

func (r *batchRequest) ItemsCount() int { return r.b.Len() }

// BytesSize is the OTLP protobuf size, as for the stock requests.
func (r *batchRequest) BytesSize() int { return len(r.b.Raw) }

// MergeSplit appends r2 to r, then cuts the result into requests of at
// most maxSize bytes (Config.Validate allows only the bytes sizer for
// batching: blocks are cut by size).
func (r *batchRequest) MergeSplit(_ context.Context, maxSize int, szt exporterhelper.RequestSizerType, r2 xexporterhelper.Request) ([]xexporterhelper.Request, error) {
	if szt != exporterhelper.RequestSizerTypeBytes && maxSize > 0 {
		return nil, fmt.Errorf("forensic batches split by bytes only, not by %v", szt)
	}
	if r2 != nil {
		o, ok := r2.(*batchRequest)
		if !ok {
			return nil, fmt.Errorf("cannot merge a %T into a forensic batch", r2)
		}
		if err := r.b.Append(o.b); err != nil {
			return nil, err
		}
	}
	parts, err := r.b.Split(maxSize)
	if err != nil {
		return nil, err
	}
	out := make([]xexporterhelper.Request, len(parts))
	for i, p := range parts {
		out[i] = &batchRequest{b: p}
	}
	return out, nil
}

// batchEncoding is how the persistent queue stores batches. Entries
// queued by an earlier version (pdata requests) are still read, so an
// upgrade loses nothing that was queued.
type batchEncoding struct {
	kind archive.Kind
	ext  archive.Extensions
}

func (batchEncoding) Marshal(_ context.Context, r xexporterhelper.Request) ([]byte, error) {
	br, ok := r.(*batchRequest)
	if !ok {
		return nil, fmt.Errorf("cannot persist a %T as a forensic batch", r)
	}
	return br.b.MarshalBinary()
}

func (e batchEncoding) Unmarshal(data []byte) (context.Context, xexporterhelper.Request, error) {
	b, err := archive.UnmarshalBatch(data)
	if errors.Is(err, archive.ErrNotABatch) {
		b, err = e.legacy(data)
	}
	if err != nil {
		return context.Background(), nil, err
	}
	if b.Kind != e.kind {
		return context.Background(), nil, fmt.Errorf("a %s batch in the %s queue", b.Kind, e.kind)
	}
	return context.Background(), &batchRequest{b: b}, nil
}

// legacy reads a pdata request as exporterhelper's own encoding wrote it.
func (e batchEncoding) legacy(data []byte) (*archive.Batch, error) {
	if e.kind == archive.KindLogs {
		_, ld, err := pdatareq.UnmarshalLogs(data)
		if errors.Is(err, pdatareq.ErrInvalidFormat) {
			ld, err = (&plog.ProtoUnmarshaler{}).UnmarshalLogs(data)
		}
		if err != nil {
			return nil, err
		}
		return archive.EncodeLogs(ld, e.ext)
	}
	_, td, err := pdatareq.UnmarshalTraces(data)
	if errors.Is(err, pdatareq.ErrInvalidFormat) {
		td, err = (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(data)
	}
	if err != nil {
		return nil, err
	}
	return archive.EncodeTraces(td, e.ext)
}

// queueSettings gives the sending queue the batch request's encoding.
func queueSettings(kind archive.Kind, ext archive.Extensions) xexporterhelper.QueueBatchSettings {
	return xexporterhelper.QueueBatchSettings{Encoding: batchEncoding{kind: kind, ext: ext}}
}
