package archive

import (
	"context"
	"fmt"
	"slices"
	"time"

	"gocloud.dev/blob"

	"github.com/sandwatch/sandwatch/internal/archive/digest"
)

// PruneStats is what a prune removed.
type PruneStats struct {
	IndexObjects int `json:"index_objects"` // catalogs and lookup runs
	Objects      int `json:"objects"`       // blocks
}

// Prune deletes everything written before cutoff: catalogs first (so list
// stops showing what goes next), then blocks, both found by their hour
// partitions, then the lookup runs whose newest entry is older than
// cutoff, then the digests that ended before it (but each writer's newest). With a Digester the
// prune is recorded in a signed digest at once, so verify reports what it
// deleted as pruned, not deleted. Entries of younger runs that name a pruned block are dropped by
// the next compaction, and skipped by readers until then. An interrupted
// prune is resumed by the next one.
func (r *Reader) Prune(ctx context.Context, cutoff time.Time) (PruneStats, error) {
	var st PruneStats
	for _, p := range []struct {
		prefix string
		valid  func(string) bool
		count  *int
	}{{IndexPrefix, isCatalogKey, &st.IndexObjects}, {IndexPrefix, isAnomalyKey, &st.IndexObjects}, {BlocksPrefix, isBlockKey, &st.Objects}} {
		keys, err := r.keysIn(ctx, p.prefix, Window{To: cutoff}, p.valid)
		if err != nil {
			return st, err
		}
		for _, k := range keys {
			if err := r.delete(ctx, k, true); err != nil {
				return st, err
			}
			*p.count++
		}
	}
	var expired []string
	err := r.list(ctx, LookupPrefix, func(obj *blob.ListObject) error {
		if info, ok := parseRunKey(obj.Key); ok && info.Newest < cutoff.UnixNano() {
			expired = append(expired, obj.Key)
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	for _, k := range expired {
		if err := r.delete(ctx, k, false); err != nil {
			return st, err
		}
		st.IndexObjects++
	}
	if r.Digester != nil {
		// Recorded before the old digests go: the record outlives them.
		if err := r.Digester.RecordPrune(ctx, cutoff); err != nil {
			return st, err
		}
	}
	// Each writer's newest digest stays, whatever its age: it anchors the
	// chain, so deleting a whole archive, digests included, still shows.
	newest := map[string]digest.KeyInfo{}
	var old []string
	err = r.list(ctx, digest.Prefix, func(obj *blob.ListObject) error {
		info, ok := digest.ParseKey(obj.Key)
		if !ok {
			return nil
		}
		if n, seen := newest[info.Writer]; !seen || info.Seq > n.Seq {
			newest[info.Writer] = info
		}
		if info.End.Before(cutoff) {
			old = append(old, obj.Key)
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	old = slices.DeleteFunc(old, func(k string) bool {
		info, _ := digest.ParseKey(k)
		return info.Seq == newest[info.Writer].Seq
	})
	for _, k := range old {
		if err := r.delete(ctx, k, false); err != nil {
			return st, err
		}
		st.IndexObjects++
	}
	return st, nil
}

// delete removes key; tidy also removes the directories it leaves empty
// on file:// stores (hour partitions; lookup/ levels are always reused).
func (r *Reader) delete(ctx context.Context, key string, tidy bool) error {
	if err := r.Bucket.Delete(ctx, key); err != nil && !isNotFound(err) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	if tidy {
		r.removeEmptyDirs(key)
	}
	return nil
}
