package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/sandwatch/sandwatch/internal/archive/lookuprun"
	"github.com/sandwatch/sandwatch/internal/archive/sealed"
)

// ErrNotFound is returned by Get when the archive holds nothing of a trace.
var ErrNotFound = errors.New("trace not found in the archive")

// MaxObjectsPerTrace bounds a lookup: a trace spread over more pages than
// this is returned in part, with Truncated set.
const MaxObjectsPerTrace = 10000

// Reader reads an archive. A long-lived Reader (the forensic_query
// extension's) caches the headers of lookup runs, which never change.
type Reader struct {
	Bucket *blob.Bucket
	// LocalDir is the bucket's directory for file:// stores (set by Open):
	// prune also removes the directories its deletions leave empty.
	LocalDir string

	// Keys open encrypted blocks and catalogs (nil: only plain ones).
	Keys *sealed.Ring
	// Digester, when set, records each prune in the writer's digests, so
	// verify tells pruned objects from deleted ones.
	Digester *Digester

	headers  cache[*lookuprun.Header]
	dataKeys cache[*sealed.ObjectKey]
	// anomalies caches anomaly index objects, which never change once
	// written (search lists them each time, so pruned ones drop out).
	anomalies cache[[]AnomalyEntry]
}

// Trace is everything archived under one trace id.
type Trace struct {
	Traces    ptrace.Traces
	Logs      plog.Logs
	Objects   int // blocks read
	Pages     int // pages read
	Spans     int
	Truncated bool
}

// Window selects by write time; zero bounds are open.
type Window struct {
	From, To time.Time
}

func (w Window) contains(t time.Time) bool {
	return (w.From.IsZero() || !t.Before(w.From)) && (w.To.IsZero() || t.Before(w.To))
}

// list calls fn with every key under prefix.
func (r *Reader) list(ctx context.Context, prefix string, fn func(*blob.ListObject) error) error {
	return r.listWith(ctx, &blob.ListOptions{Prefix: prefix}, fn)
}

// listWith calls fn with every object (or, with a delimiter, directory)
// the listing returns.
func (r *Reader) listWith(ctx context.Context, opts *blob.ListOptions, fn func(*blob.ListObject) error) error {
	it := r.Bucket.List(opts)
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("list %s: %w", opts.Prefix, err)
		}
		if err := fn(obj); err != nil {
			return err
		}
	}
}

// days lists the day partitions under prefix (blocks/ or index/) that
// overlap w.
func (r *Reader) days(ctx context.Context, prefix string, w Window) ([]string, error) {
	var days []string
	err := r.listWith(ctx, &blob.ListOptions{Prefix: prefix, Delimiter: "/"}, func(obj *blob.ListObject) error {
		if !obj.IsDir {
			return nil
		}
		start, err := time.Parse("2006-01-02", strings.TrimSuffix(strings.TrimPrefix(obj.Key, prefix), "/"))
		if err != nil {
			return nil // not a day partition
		}
		if (w.To.IsZero() || start.Before(w.To)) && (w.From.IsZero() || start.Add(24*time.Hour).After(w.From)) {
			days = append(days, obj.Key)
		}
		return nil
	})
	sort.Strings(days)
	return days, err
}

// keysIn returns the keys under prefix's day partitions written within w
// and accepted by valid, oldest first.
func (r *Reader) keysIn(ctx context.Context, prefix string, w Window, valid func(string) bool) ([]string, error) {
	days, err := r.days(ctx, prefix, w)
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, d := range days {
		err := r.list(ctx, d, func(obj *blob.ListObject) error {
			if !valid(obj.Key) {
				return nil
			}
			if t, ok := KeyTime(obj.Key); ok && w.contains(t) {
				keys = append(keys, obj.Key)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(keys)
	return keys, nil
}

func isCatalogKey(k string) bool {
	_, ok := indexCompression(k)
	return ok && strings.HasPrefix(k, IndexPrefix)
}

func isBlockKey(k string) bool {
	_, _, ok := ParseBlockKey(k)
	return ok
}

// indexKeys returns the catalog keys written within w, oldest first.
func (r *Reader) indexKeys(ctx context.Context, w Window) ([]string, error) {
	return r.keysIn(ctx, IndexPrefix, w, isCatalogKey)
}

func (r *Reader) readIndex(ctx context.Context, key string) ([]IndexEntry, error) {
	entries, _, err := r.readCatalog(ctx, key)
	return entries, err
}

// readCatalog reads one catalog and returns its stored size too.
func (r *Reader) readCatalog(ctx context.Context, key string) ([]IndexEntry, int64, error) {
	raw, size, err := r.readCatalogRaw(ctx, key)
	if err != nil {
		return nil, size, err
	}
	entries, err := decodeIndex(CompressionNone, raw)
	if err != nil {
		return nil, size, fmt.Errorf("%s: %w", key, err)
	}
	t, _ := KeyTime(key)
	for i := range entries {
		entries[i].Written = t.UnixNano()
	}
	return entries, size, nil
}

// readCatalogRaw reads a catalog's lines (opened, decompressed) and its
// stored size.
func (r *Reader) readCatalogRaw(ctx context.Context, key string) ([]byte, int64, error) {
	data, err := r.Bucket.ReadAll(ctx, key)
	if err != nil {
		return nil, 0, fmt.Errorf("read %s: %w", key, err)
	}
	size := int64(len(data))
	if isEncrypted(key) {
		if data, err = r.openObject(key, data); err != nil {
			return nil, size, err
		}
	}
	c, _ := indexCompression(key)
	raw, err := decompress(c, data)
	if err != nil {
		return nil, size, fmt.Errorf("%s: %w", key, err)
	}
	return raw, size, nil
}

// Entries calls fn with each catalog entry written within w, oldest first.
func (r *Reader) Entries(ctx context.Context, w Window, fn func(IndexEntry) error) error {
	keys, err := r.indexKeys(ctx, w)
	if err != nil {
		return err
	}
	for _, k := range keys {
		entries, err := r.readIndex(ctx, k)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// removeEmptyDirs removes, on file:// stores, the directories above key
// that its deletion left empty (os.Remove fails on a non-empty one).
func (r *Reader) removeEmptyDirs(key string) {
	if r.LocalDir == "" {
		return
	}
	dir := filepath.Dir(filepath.Join(r.LocalDir, filepath.FromSlash(key)))
	for i := 0; i < 4 && dir != r.LocalDir && strings.HasPrefix(dir, r.LocalDir); i++ {
		if os.Remove(dir) != nil {
			return
		}
		dir = filepath.Dir(dir)
	}
}

func isNotFound(err error) bool { return gcerrors.Code(err) == gcerrors.NotFound }

// cache holds immutable things by object key (run headers, data keys),
// bounded: when full it is emptied (compaction replaces runs and prune
// removes blocks, so old keys stop being asked for).
type cache[V any] struct {
	mu sync.Mutex
	m  map[string]V
}

const maxCached = 4096

func (c *cache[V]) get(k string) V {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[k]
}

// lookup is get that tells a cached zero value from a missing one.
func (c *cache[V]) lookup(k string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return v, ok
}

func (c *cache[V]) put(k string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCached {
		c.m = make(map[string]V)
	}
	c.m[k] = v
}
