package archive

import (
	"bytes"
	"cmp"
	"container/heap"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"gocloud.dev/blob"
)

// cand is a trace found in the catalogs, with every part read so far.
type cand struct {
	id         pcommon.TraceID
	start, end uint64
	exts       []string
	pages      []pageLoc
}

// candHeap pops the latest-starting candidate first. A candidate's start
// only decreases as older parts are read; an entry whose key is stale is
// pushed again when popped.
type candHeap []candItem

type candItem struct {
	start uint64
	c     *cand
}

func (h candHeap) Len() int { return len(h) }
func (h candHeap) Less(i, j int) bool {
	if h[i].start != h[j].start {
		return h[i].start > h[j].start
	}
	return string(h[i].c.id[:]) < string(h[j].c.id[:])
}
func (h candHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *candHeap) Push(x any)   { *h = append(*h, x.(candItem)) }
func (h *candHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// catalogReadAhead is how many catalogs are read at once.
const catalogReadAhead = 4

// byCatalogs walks the catalogs of the time range newest first. A trace
// is evaluated once every catalog that can hold a part of it is read
// (written no earlier than Spread+Skew before its start); the walk stops
// when Limit traces are found that start after anything still unread.
func (s *searcher) byCatalogs(ctx context.Context) error {
	keys, err := s.r.indexKeysOf(ctx, s.writeWindow(), isCatalogKey)
	if err != nil {
		return err
	}
	s.m.Catalogs = len(keys)
	var anomalies map[pcommon.TraceID][]AnomalyEntry
	if s.plan.usesAnomaly {
		if anomalies, err = s.loadAnomalies(ctx); err != nil {
			return err
		}
	}
	pending := map[pcommon.TraceID]*cand{}
	h := &candHeap{}
	margin := int64(s.req.Skew + s.req.Spread)
	drain := func(written int64, all bool) error {
		for h.Len() > 0 {
			it := (*h)[0]
			if !all && int64(it.start)-margin <= written {
				return nil
			}
			heap.Pop(h)
			c := it.c
			if c.start < it.start {
				heap.Push(h, candItem{start: c.start, c: c})
				continue
			}
			delete(pending, c.id)
			if s.full(int64(c.start)) {
				continue // cannot enter the list
			}
			facts := indexFacts{extensions: c.exts, extensionKnown: true, anomalyKnown: anomalies != nil}
			for _, a := range anomalies[c.id] {
				facts.anomalies = append(facts.anomalies, a.Type)
			}
			if !s.plan.may(&facts) {
				s.m.PrunedByIndex++
				continue
			}
			s.m.Candidates++
			if err := s.evaluate(ctx, c.id, c.pages, c.exts, anomalies[c.id]); err != nil {
				return err
			}
		}
		return nil
	}
	for hi := len(keys); hi > 0; hi -= catalogReadAhead {
		lo := max(hi-catalogReadAhead, 0)
		batch := keys[lo:hi]
		entries := make([][]IndexEntry, len(batch))
		sizes := make([]int64, len(batch))
		errs := make([]error, len(batch))
		parallel(len(batch), func(i int) { entries[i], sizes[i], errs[i] = s.r.readCatalog(ctx, batch[i]) })
		for i := len(batch) - 1; i >= 0; i-- {
			if isNotFound(errs[i]) {
				continue // pruned since listed
			}
			if errs[i] != nil {
				return errs[i]
			}
			s.m.CatalogsRead++
			s.m.InspectedBytes += sizes[i]
			for _, e := range entries[i] {
				s.add(pending, h, &e)
			}
			written, _ := KeyTime(batch[i])
			if err := drain(written.UnixNano(), false); err != nil {
				return err
			}
			if s.full(written.UnixNano() + margin) {
				return nil
			}
			if err := s.budget(ctx); err != nil {
				return err
			}
		}
	}
	return drain(0, true)
}

// add folds a catalog entry into its trace's candidate.
func (s *searcher) add(pending map[pcommon.TraceID]*cand, h *candHeap, e *IndexEntry) {
	if e.TraceID == "" || e.Kind != KindSpans {
		return
	}
	id, err := ParseTraceID(e.TraceID)
	if err != nil {
		return
	}
	c := pending[id]
	if c == nil {
		c = &cand{id: id, start: e.Start}
		pending[id] = c
		defer heap.Push(h, candItem{start: c.start, c: c})
	}
	if e.Start != 0 && (c.start == 0 || e.Start < c.start) {
		c.start = e.Start
	}
	c.end = max(c.end, e.End)
	if e.Extension != "" && !slices.Contains(c.exts, e.Extension) {
		c.exts = append(c.exts, e.Extension)
		slices.Sort(c.exts)
	}
	for _, p := range e.Pages {
		l := pageLoc{Key: e.Key, Off: p[0], Len: uint32(p[1])}
		c.pages = append(c.pages, l)
		s.named[l] = struct{}{}
	}
}

// loadAnomalies reads the anomaly index of the time range, by trace.
func (s *searcher) loadAnomalies(ctx context.Context) (map[pcommon.TraceID][]AnomalyEntry, error) {
	keys, err := s.r.indexKeysOf(ctx, s.writeWindow(), isAnomalyKey)
	if err != nil {
		return nil, err
	}
	entries := make([][]AnomalyEntry, len(keys))
	sizes := make([]int64, len(keys))
	errs := make([]error, len(keys))
	parallel(len(keys), func(i int) { entries[i], sizes[i], errs[i] = s.r.readAnomalies(ctx, keys[i]) })
	out := map[pcommon.TraceID][]AnomalyEntry{}
	for i := range keys {
		if isNotFound(errs[i]) {
			continue
		}
		if errs[i] != nil {
			return nil, errs[i]
		}
		s.m.AnomalyObjects++
		s.m.InspectedBytes += sizes[i]
		for _, a := range entries[i] {
			id, err := ParseTraceID(a.TraceID)
			if err != nil {
				continue
			}
			out[id] = append(out[id], a)
		}
	}
	return out, nil
}

// byAnomalies takes its candidates from the anomaly index (the query
// needs an anomaly on every match), latest event first, and finds their
// pages through the lookup runs, as trace-by-id does. A trace starts no
// later than its anomalies, so the walk stops once Limit traces start
// after the next candidate's latest event.
func (s *searcher) byAnomalies(ctx context.Context) error {
	anomalies, err := s.loadAnomalies(ctx)
	if err != nil {
		return err
	}
	type acand struct {
		id     pcommon.TraceID
		latest int64
	}
	var cands []acand
	for id, as := range anomalies {
		facts := indexFacts{anomalyKnown: true}
		var latest int64
		for _, a := range as {
			facts.anomalies = append(facts.anomalies, a.Type)
			latest = max(latest, int64(cmp.Or(a.Time, uint64(a.Written))))
		}
		if !s.plan.may(&facts) {
			s.m.PrunedByIndex++
			continue
		}
		cands = append(cands, acand{id: id, latest: latest})
	}
	slices.SortFunc(cands, func(a, b acand) int {
		return cmp.Or(cmp.Compare(b.latest, a.latest), strings.Compare(string(a.id[:]), string(b.id[:])))
	})
	// Locations are looked up eight candidates at a time (I/O bound);
	// candidates are still evaluated in order, so the answer does not
	// depend on timing.
	const ahead = 8
	for lo := 0; lo < len(cands); lo += ahead {
		batch := cands[lo:min(lo+ahead, len(cands))]
		if s.full(batch[0].latest + int64(s.req.Skew)) {
			return nil
		}
		locs := make([][]location, len(batch))
		errs := make([]error, len(batch))
		parallel(len(batch), func(i int) { locs[i], errs[i] = s.r.locate(ctx, batch[i].id) })
		for i, c := range batch {
			if s.full(c.latest + int64(s.req.Skew)) {
				return nil
			}
			if errs[i] != nil {
				return errs[i]
			}
			s.m.Candidates++
			var pages []pageLoc
			for _, l := range locs[i] {
				if kind, _, ok := ParseBlockKey(l.Key); ok && kind == KindSpans {
					pages = append(pages, pageLoc{Key: l.Key, Off: l.Off, Len: l.Len})
				}
			}
			var exts []string
			if s.plan.usesExtension {
				var err error
				if exts, err = s.extensionsOf(ctx, c.id, pages); err != nil {
					return err
				}
			}
			if err := s.evaluate(ctx, c.id, pages, exts, anomalies[c.id]); err != nil {
				return err
			}
		}
	}
	return nil
}

// extensionsOf reads, from the catalogs of the blocks holding a trace,
// the extensions they name for it.
func (s *searcher) extensionsOf(ctx context.Context, id pcommon.TraceID, pages []pageLoc) ([]string, error) {
	hexID := TraceHex(id)
	var exts []string
	done := map[string]bool{}
	for _, p := range pages {
		if done[p.Key] {
			continue
		}
		done[p.Key] = true
		ck, ok := catalogKeyOf(p.Key)
		if !ok {
			continue
		}
		lines, size, err := s.r.catalogLinesOf(ctx, ck, hexID)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		s.m.CatalogsRead++
		s.m.InspectedBytes += size
		for _, e := range lines {
			if e.Extension != "" && !slices.Contains(exts, e.Extension) {
				exts = append(exts, e.Extension)
			}
		}
	}
	slices.Sort(exts)
	return exts, nil
}

// catalogKeyOf names the catalog written with a block.
func catalogKeyOf(blockKey string) (string, bool) {
	_, f, ok := ParseBlockKey(blockKey)
	if !ok {
		return "", false
	}
	rest := strings.TrimPrefix(blockKey, BlocksPrefix)
	slash := strings.LastIndexByte(rest, '/')
	name := rest[slash+1:]
	name = name[:strings.IndexByte(name, '.')]
	enc := ""
	if isEncrypted(blockKey) {
		enc = EncryptedExt
	}
	return IndexPrefix + rest[:slash+1] + name + ".idx.json" + f.Compression.Ext() + enc, true
}

// catalogLinesOf decodes only the lines of a catalog that name trace id
// hexID (a catalog holds thousands of traces; decoding them all for one
// would dominate an anomaly search).
func (r *Reader) catalogLinesOf(ctx context.Context, key, hexID string) ([]IndexEntry, int64, error) {
	raw, size, err := r.readCatalogRaw(ctx, key)
	if err != nil {
		return nil, size, err
	}
	needle := []byte(`"trace_id":"` + hexID + `"`)
	var out []IndexEntry
	for {
		at := bytes.Index(raw, needle)
		if at < 0 {
			return out, size, nil
		}
		start := bytes.LastIndexByte(raw[:at], '\n') + 1
		end := bytes.IndexByte(raw[at:], '\n')
		if end < 0 {
			end = len(raw) - at
		}
		var e IndexEntry
		if err := json.Unmarshal(raw[start:at+end], &e); err != nil {
			return nil, size, fmt.Errorf("%s: decode index line: %w", key, err)
		}
		out = append(out, e)
		raw = raw[at+end:]
	}
}

// maxHourListing: windows up to this long are listed hour partition by
// hour partition (a few small listings instead of whole days; on file://
// every listed object costs a read of its attributes).
const maxHourListing = 48 * time.Hour

// indexKeysOf returns the keys under index/ written within w and accepted
// by valid, oldest first.
func (r *Reader) indexKeysOf(ctx context.Context, w Window, valid func(string) bool) ([]string, error) {
	if w.From.IsZero() || w.To.IsZero() || w.To.Sub(w.From) > maxHourListing {
		return r.keysIn(ctx, IndexPrefix, w, valid)
	}
	var keys []string
	for h := w.From.UTC().Truncate(time.Hour); h.Before(w.To); h = h.Add(time.Hour) {
		err := r.list(ctx, IndexPrefix+HourPrefix(h), func(obj *blob.ListObject) error {
			if t, ok := KeyTime(obj.Key); ok && valid(obj.Key) && w.contains(t) {
				keys = append(keys, obj.Key)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	slices.Sort(keys)
	return keys, nil
}
