package archive

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sandwatch/sandwatch/internal/archive/sealed"
)

// EncryptedExt ends the key of every sealed block and catalog, so a
// reader knows to fetch the header before a page without probing.
const EncryptedExt = ".enc"

// ErrEncrypted: an encrypted object and no key ring to open it.
var ErrEncrypted = errors.New("the archive is encrypted: configure its keys (encryption.keys, or sandwatchctl --key ID=file:PATH)")

// IsKeyError reports whether err is a missing or wrong key, or sealed
// data that fails authentication (as opposed to a store failure).
func IsKeyError(err error) bool {
	return errors.Is(err, ErrEncrypted) || errors.Is(err, sealed.ErrNoKey) ||
		errors.Is(err, sealed.ErrWrongKey) || errors.Is(err, sealed.ErrCorrupt)
}

func isEncrypted(key string) bool { return strings.HasSuffix(key, EncryptedExt) }

// sealBlock seals each page of b with k: the block becomes k's header
// followed by the sealed pages, whose offsets and lengths b records.
func sealBlock(k *sealed.ObjectKey, b *block) (*block, error) {
	out := *b
	out.Data = make([]byte, 0, len(k.Header)+len(b.Data)+len(b.Pages)*sealed.Overhead)
	out.Data = append(out.Data, k.Header...)
	out.Pages = make([]pageRef, len(b.Pages))
	for i, p := range b.Pages {
		off := uint64(len(out.Data))
		var err error
		if out.Data, err = k.Seal(out.Data, b.Data[p.Off:p.Off+uint64(p.Len)], off); err != nil {
			return nil, err
		}
		out.Pages[i] = pageRef{Off: off, Len: uint32(uint64(len(out.Data)) - off)}
	}
	return &out, nil
}

// sealObject seals a whole object (a catalog) as one page.
func sealObject(r *sealed.Ring, key string, data []byte) ([]byte, error) {
	k, err := r.NewObjectKey(key)
	if err != nil {
		return nil, err
	}
	out := append(make([]byte, 0, len(k.Header)+len(data)+sealed.Overhead), k.Header...)
	return k.Seal(out, data, uint64(len(k.Header)))
}

// openObject opens an object sealed by sealObject.
func (r *Reader) openObject(key string, data []byte) ([]byte, error) {
	if r.Keys == nil {
		return nil, fmt.Errorf("%s: %w", key, ErrEncrypted)
	}
	n, err := sealed.HeaderLen(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	k, err := r.Keys.Open(key, data[:n])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	out, err := k.OpenPage(data[n:], uint64(n))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	return out, nil
}

// objectKey returns the data key of a sealed block: its header is read
// once (one small range read) and the key kept, as blocks never change.
func (r *Reader) objectKey(ctx context.Context, key string) (*sealed.ObjectKey, error) {
	if r.Keys == nil {
		return nil, fmt.Errorf("%s: %w", key, ErrEncrypted)
	}
	if k := r.dataKeys.get(key); k != nil {
		return k, nil
	}
	h, err := r.readRange(ctx, key, 0, int64(sealed.MaxHeader))
	if err != nil {
		return nil, err
	}
	k, err := r.Keys.Open(key, h)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	r.dataKeys.put(key, k)
	return k, nil
}

// readPage reads one page of a block, opening it if the block is sealed.
func (r *Reader) readPage(ctx context.Context, key string, off uint64, n uint32) ([]byte, error) {
	if !isEncrypted(key) {
		return r.readRange(ctx, key, int64(off), int64(n))
	}
	k, err := r.objectKey(ctx, key)
	if err != nil {
		return nil, err
	}
	data, err := r.readRange(ctx, key, int64(off), int64(n))
	if err != nil {
		return nil, err
	}
	out, err := k.OpenPage(data, off)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	return out, nil
}
