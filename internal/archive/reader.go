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

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

// ErrNotFound is returned by Get when the archive holds nothing of a trace.
var ErrNotFound = errors.New("trace not found in the archive")

// MaxObjectsPerTrace bounds a lookup: a trace written in more pieces than
// this is returned in part, with Truncated set.
const MaxObjectsPerTrace = 10000

// Reader reads an archive.
type Reader struct {
	Bucket *blob.Bucket
	// LocalDir is the bucket's directory for file:// stores (set by Open):
	// prune also removes the directories its deletions leave empty.
	LocalDir string
}

// Trace is everything archived under one trace id.
type Trace struct {
	Traces    ptrace.Traces
	Logs      plog.Logs
	Objects   int
	Spans     int
	Truncated bool
}

// Get returns every span and log record archived under id: one List of the
// trace's prefix and one Get per object. Spans written twice (a retried
// batch) are returned once.
func (r *Reader) Get(ctx context.Context, id pcommon.TraceID) (*Trace, error) {
	if id.IsEmpty() {
		return nil, ErrInvalidTraceID
	}
	var keys []string
	truncated := false
	it := r.Bucket.List(&blob.ListOptions{Prefix: TracePrefix(id)})
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", TracePrefix(id), err)
		}
		if _, _, ok := ParseObjectKey(obj.Key); ok {
			if len(keys) == MaxObjectsPerTrace {
				truncated = true
				break
			}
			keys = append(keys, obj.Key)
		}
	}
	if len(keys) == 0 {
		return nil, ErrNotFound
	}
	sort.Strings(keys) // write order: the first write's copy of a span wins
	datas := make([][]byte, len(keys))
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, k := range keys {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			datas[i], errs[i] = r.Bucket.ReadAll(ctx, k)
		}()
	}
	wg.Wait()
	out := &Trace{Traces: ptrace.NewTraces(), Logs: plog.NewLogs(), Truncated: truncated}
	seen := make(map[pcommon.SpanID]struct{})
	for i, k := range keys {
		if gcerrors.Code(errs[i]) == gcerrors.NotFound {
			continue // pruned between List and Get
		}
		if errs[i] != nil {
			return nil, fmt.Errorf("read %s: %w", k, errs[i])
		}
		kind, f, _ := ParseObjectKey(k)
		if kind == KindLogs {
			ld, err := DecodeLogs(f, datas[i])
			if err != nil {
				return nil, fmt.Errorf("decode %s: %w", k, err)
			}
			ld.ResourceLogs().MoveAndAppendTo(out.Logs.ResourceLogs())
		} else {
			td, err := DecodeTraces(f, datas[i])
			if err != nil {
				return nil, fmt.Errorf("decode %s: %w", k, err)
			}
			dedupe(td, seen)
			td.ResourceSpans().MoveAndAppendTo(out.Traces.ResourceSpans())
		}
		out.Objects++
	}
	out.Spans = out.Traces.SpanCount()
	return out, nil
}

// dedupe drops spans already seen (and the scopes/resources left empty).
func dedupe(td ptrace.Traces, seen map[pcommon.SpanID]struct{}) {
	td.ResourceSpans().RemoveIf(func(rs ptrace.ResourceSpans) bool {
		rs.ScopeSpans().RemoveIf(func(ss ptrace.ScopeSpans) bool {
			ss.Spans().RemoveIf(func(s ptrace.Span) bool {
				if _, ok := seen[s.SpanID()]; ok {
					return true
				}
				seen[s.SpanID()] = struct{}{}
				return false
			})
			return ss.Spans().Len() == 0
		})
		return rs.ScopeSpans().Len() == 0
	})
}

// Window selects index objects by write time; zero bounds are open.
type Window struct {
	From, To time.Time
}

func (w Window) contains(t time.Time) bool {
	return (w.From.IsZero() || !t.Before(w.From)) && (w.To.IsZero() || t.Before(w.To))
}

// days lists the day partitions of the index that overlap w.
func (r *Reader) days(ctx context.Context, w Window) ([]string, error) {
	var days []string
	it := r.Bucket.List(&blob.ListOptions{Prefix: IndexPrefix, Delimiter: "/"})
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", IndexPrefix, err)
		}
		if !obj.IsDir {
			continue
		}
		day := strings.TrimSuffix(strings.TrimPrefix(obj.Key, IndexPrefix), "/")
		start, err := time.Parse("2006-01-02", day)
		if err != nil {
			continue
		}
		if (w.To.IsZero() || start.Before(w.To)) && (w.From.IsZero() || start.Add(24*time.Hour).After(w.From)) {
			days = append(days, obj.Key)
		}
	}
	sort.Strings(days)
	return days, nil
}

// indexKeys returns the index object keys written within w, oldest first.
// It lists only the day partitions the window overlaps.
func (r *Reader) indexKeys(ctx context.Context, w Window) ([]string, error) {
	days, err := r.days(ctx, w)
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, d := range days {
		it := r.Bucket.List(&blob.ListOptions{Prefix: d})
		for {
			obj, err := it.Next(ctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("list %s: %w", d, err)
			}
			if _, ok := indexCompression(obj.Key); !ok {
				continue
			}
			if t, ok := KeyTime(obj.Key); ok && w.contains(t) {
				keys = append(keys, obj.Key)
			}
		}
	}
	sort.Strings(keys)
	return keys, nil
}

func (r *Reader) readIndex(ctx context.Context, key string) ([]IndexEntry, error) {
	c, _ := indexCompression(key)
	data, err := r.Bucket.ReadAll(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	entries, err := decodeIndex(c, data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	t, _ := KeyTime(key)
	for i := range entries {
		entries[i].Written = t.UnixNano()
	}
	return entries, nil
}

// Entries calls fn with each index entry written within w, oldest first.
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

// TraceSummary aggregates the index entries of one trace.
type TraceSummary struct {
	TraceID    string   `json:"trace_id"`
	Objects    int      `json:"objects"`
	Spans      int      `json:"spans"`
	Logs       int      `json:"logs"`
	Bytes      int64    `json:"bytes"`
	Start      uint64   `json:"start_unix_nano,omitempty"`
	End        uint64   `json:"end_unix_nano,omitempty"`
	Written    int64    `json:"written_unix_nano"`
	Extensions []string `json:"extensions,omitempty"`
	RootName   string   `json:"root,omitempty"`
}

// ListOptions select traces.
type ListOptions struct {
	Window    Window
	Extension string // only traces with an object of this extension
	Limit     int    // 0: no limit
}

// List returns the traces written within the window, oldest first.
func (r *Reader) List(ctx context.Context, opts ListOptions) ([]TraceSummary, error) {
	byID := map[string]*TraceSummary{}
	var order []string
	err := r.Entries(ctx, opts.Window, func(e IndexEntry) error {
		if e.TraceID == "" {
			return nil
		}
		s := byID[e.TraceID]
		if s == nil {
			s = &TraceSummary{TraceID: e.TraceID, Written: e.Written}
			byID[e.TraceID] = s
			order = append(order, e.TraceID)
		}
		s.Objects++
		s.Bytes += int64(e.Bytes)
		if e.Kind == KindLogs {
			s.Logs += e.Count
		} else {
			s.Spans += e.Count
		}
		if e.Start != 0 && (s.Start == 0 || e.Start < s.Start) {
			s.Start = e.Start
		}
		s.End = max(s.End, e.End)
		if e.Extension != "" && !contains(s.Extensions, e.Extension) {
			s.Extensions = append(s.Extensions, e.Extension)
		}
		if s.RootName == "" {
			s.RootName = e.RootName
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]TraceSummary, 0, len(order))
	for _, id := range order {
		s := byID[id]
		if opts.Extension != "" && !contains(s.Extensions, opts.Extension) {
			continue
		}
		out = append(out, *s)
		if opts.Limit > 0 && len(out) == opts.Limit {
			break
		}
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Counts are totals of stored objects.
type Counts struct {
	Objects int   `json:"objects"`
	Spans   int   `json:"spans"`
	Logs    int   `json:"logs"`
	Bytes   int64 `json:"bytes"`
}

// Stats summarises an archive from its index.
type Stats struct {
	Counts
	Traces       int               `json:"traces"`
	IndexObjects int               `json:"index_objects"`
	Oldest       time.Time         `json:"oldest,omitzero"`
	Newest       time.Time         `json:"newest,omitzero"`
	Extensions   map[string]Counts `json:"extensions"`
}

// Stats reads the index within w.
func (r *Reader) Stats(ctx context.Context, w Window) (*Stats, error) {
	keys, err := r.indexKeys(ctx, w)
	if err != nil {
		return nil, err
	}
	st := &Stats{Extensions: map[string]Counts{}, IndexObjects: len(keys)}
	traces := map[string]struct{}{}
	for _, k := range keys {
		entries, err := r.readIndex(ctx, k)
		if err != nil {
			return nil, err
		}
		t, _ := KeyTime(k)
		if st.Oldest.IsZero() || t.Before(st.Oldest) {
			st.Oldest = t.UTC()
		}
		if t.After(st.Newest) {
			st.Newest = t.UTC()
		}
		for _, e := range entries {
			c := st.Extensions[e.Extension]
			for _, cc := range []*Counts{&st.Counts, &c} {
				cc.Objects++
				cc.Bytes += int64(e.Bytes)
				if e.Kind == KindLogs {
					cc.Logs += e.Count
				} else {
					cc.Spans += e.Count
				}
			}
			st.Extensions[e.Extension] = c
			if e.TraceID != "" {
				traces[e.TraceID] = struct{}{}
			}
		}
	}
	st.Traces = len(traces)
	return st, nil
}

// PruneStats is what a prune removed.
type PruneStats struct {
	IndexObjects int `json:"index_objects"`
	Objects      int `json:"objects"`
}

// Prune deletes everything written before cutoff: for each expired index
// object, the objects it names, then the index object itself (last, so an
// interrupted prune is resumed by the next one).
func (r *Reader) Prune(ctx context.Context, cutoff time.Time) (PruneStats, error) {
	var st PruneStats
	keys, err := r.indexKeys(ctx, Window{To: cutoff})
	if err != nil {
		return st, err
	}
	for _, k := range keys {
		entries, err := r.readIndex(ctx, k)
		if err != nil && gcerrors.Code(errors.Unwrap(err)) != gcerrors.NotFound {
			return st, err
		}
		for _, e := range entries {
			if !validStoredKey(e.Key) {
				continue // never delete outside the archive's own layout
			}
			if err := r.Bucket.Delete(ctx, e.Key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
				return st, fmt.Errorf("delete %s: %w", e.Key, err)
			}
			st.Objects++
			r.removeEmptyDirs(e.Key)
		}
		if err := r.Bucket.Delete(ctx, k); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
			return st, fmt.Errorf("delete %s: %w", k, err)
		}
		st.IndexObjects++
		r.removeEmptyDirs(k)
	}
	return st, nil
}

func validStoredKey(k string) bool {
	if _, _, ok := ParseObjectKey(k); !ok {
		return false
	}
	return strings.HasPrefix(k, TracesPrefix) || strings.HasPrefix(k, UntracedPrefix)
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
