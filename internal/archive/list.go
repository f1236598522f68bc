package archive

import (
	"context"
	"slices"
	"time"
)

// TraceSummary aggregates the catalog entries of one trace.
type TraceSummary struct {
	TraceID    string   `json:"trace_id"`
	Objects    int      `json:"objects"` // blocks holding the trace
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
	Extension string // only traces with spans or records of this extension
	Limit     int    // 0: no limit
}

// List returns the traces written within the window, oldest first. It
// reads the window's catalogs only.
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
		if e.Extension != "" && !slices.Contains(s.Extensions, e.Extension) {
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
		if opts.Extension != "" && !slices.Contains(s.Extensions, opts.Extension) {
			continue
		}
		out = append(out, *s)
		if opts.Limit > 0 && len(out) == opts.Limit {
			break
		}
	}
	return out, nil
}

// Counts are totals of stored data.
type Counts struct {
	Objects int   `json:"objects"` // blocks
	Spans   int   `json:"spans"`
	Logs    int   `json:"logs"`
	Bytes   int64 `json:"bytes"`
}

// Stats summarises an archive from its catalogs.
type Stats struct {
	Counts
	Traces       int               `json:"traces"`
	IndexObjects int               `json:"index_objects"` // catalogs read
	Oldest       time.Time         `json:"oldest,omitzero"`
	Newest       time.Time         `json:"newest,omitzero"`
	Extensions   map[string]Counts `json:"extensions"`
}

// Stats reads the catalogs written within w.
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
		if len(entries) > 0 {
			st.Objects++ // one block per catalog
		}
		blockOf := map[string]bool{} // extensions counted for this block
		for _, e := range entries {
			c := st.Extensions[e.Extension]
			if !blockOf[e.Extension] {
				blockOf[e.Extension] = true
				c.Objects++
			}
			c.Bytes += int64(e.Bytes)
			st.Bytes += int64(e.Bytes)
			if e.Kind == KindLogs {
				c.Logs += e.Count
				st.Logs += e.Count
			} else {
				c.Spans += e.Count
				st.Spans += e.Count
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
