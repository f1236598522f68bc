package baselineconnector

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/detect"
	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/metadata"
	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/persist"
	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/profile"
	"github.com/sandwatch/sandwatch/internal/archive"
	"github.com/sandwatch/sandwatch/internal/sandboxevent"
)

// sharedStore keeps the profiles of a gateway replica in an object store
// the replicas share, one object per extension. Tier 1 routes each
// extension to one replica; when membership changes, the extension's new
// owner sees spans of an extension it holds no profile for (or one it has
// not seen for refresh_after). Those spans are held, in arrival order,
// while a loader reads the stored profile; they are judged when it
// arrives, when none is stored, or after load_timeout, whichever comes
// first, so a slow or dead store delays judgement by a bounded time and
// never blocks the pipeline. A load that failed or timed out is retried
// every retry_interval and a late profile replaces the fresh one learned
// meanwhile. Every outcome is counted.
type sharedStore struct {
	b       *baseline
	cfg     SharedStoreConfig
	bucket  *blob.Bucket
	replica string
	tel     sharedTelemetry

	// Guarded by b.mu.
	pending  map[string]*pendingLoad
	fellBack map[string]*fallback
	held     int

	// Owned by the saver (and by close, after the saver stopped).
	savedTo int64

	jobs    chan string
	results chan loadResult
	stop    chan struct{}
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

type heldRecord struct {
	ev sandboxevent.Event
	sp detect.Span
	ts int64
}

type pendingLoad struct {
	since     int64
	localSeen int64 // LastSeen of the profile held here when the load began, 0 if none
	recs      []heldRecord
}

// fallback marks an extension judged without its stored profile (the load
// failed, timed out or did not fit): it is loaded again later and a stored
// profile newer than localSeen replaces the one learned meanwhile.
type fallback struct {
	localSeen int64
	retryAt   int64
	inflight  bool
}

type loadResult struct {
	id   string
	snap *profile.Snapshot
	err  error
	took time.Duration
}

// Outcomes of a load, as counted.
const (
	loadLoaded   = "loaded"   // a stored profile was installed before judging
	loadAbsent   = "absent"   // nothing stored: a new extension
	loadCurrent  = "current"  // the profile held here is newer than the stored one
	loadLate     = "late"     // a stored profile arrived after its spans were judged, and replaced the fresh one
	loadTimeout  = "timeout"  // judged after load_timeout without it
	loadError    = "error"    // the store failed
	loadOverflow = "overflow" // max_pending_loads or max_held_spans reached: judged at once
)

func newSharedStore(ctx context.Context, b *baseline) (*sharedStore, error) {
	cfg := b.cfg.SharedStore.withDefaults()
	bucket, _, err := archive.Open(ctx, cfg.Store, cfg.S3)
	if err != nil {
		return nil, fmt.Errorf("baseline: shared_store: %w", err)
	}
	replica := cfg.Replica
	if replica == "" {
		host, _ := os.Hostname()
		replica = fmt.Sprintf("%s/%d", host, os.Getpid())
	}
	tel, err := newSharedTelemetry(b.set.TelemetrySettings.MeterProvider.Meter(metadata.ScopeName))
	if err != nil {
		_ = bucket.Close()
		return nil, fmt.Errorf("baseline: shared_store telemetry: %w", err)
	}
	s := &sharedStore{b: b, cfg: cfg, bucket: bucket, replica: replica, tel: tel,
		pending: map[string]*pendingLoad{}, fellBack: map[string]*fallback{},
		jobs: make(chan string, cfg.MaxPendingLoads), results: make(chan loadResult, cfg.MaxPendingLoads+cfg.Loaders),
		stop: make(chan struct{})}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

func (s *sharedStore) start() {
	for range s.cfg.Loaders {
		s.wg.Add(1)
		go s.loader()
	}
	s.wg.Add(2)
	go s.run()
	go s.saveLoop()
}

// observe feeds one record to the engine, or holds it while its
// extension's stored profile loads. Called with b.mu held.
func (b *baseline) observe(ev *sandboxevent.Event, sp detect.Span, ts int64) {
	if b.shared == nil || b.shared.admit(ev, sp, ts) {
		b.eng.Observe(ev, sp, ts)
	}
}

// admit reports whether the record is observed now; if not, it is held.
func (s *sharedStore) admit(ev *sandboxevent.Event, sp detect.Span, ts int64) bool {
	id := ev.ExtensionID
	if id == "" {
		return true
	}
	if len(id) > profile.MaxNameLen {
		id = id[:profile.MaxNameLen]
	}
	if len(s.pending) > 0 {
		if pl := s.pending[id]; pl != nil {
			return !s.hold(id, pl, ev, sp, ts)
		}
	}
	if len(s.fellBack) > 0 {
		if fb := s.fellBack[id]; fb != nil {
			if !fb.inflight && ts >= fb.retryAt && s.enqueue(id) {
				fb.inflight = true
			}
			return true
		}
	}
	p, known := s.b.eng.Profile(id)
	if known && ts-p.LastSeen < int64(s.cfg.RefreshAfter) {
		return true
	}
	// Unknown here, or idle long enough to have lived on another replica:
	// the store has the word before any judgement.
	var localSeen int64
	if known {
		localSeen = p.LastSeen
	}
	if s.held >= s.cfg.MaxHeldSpans || !s.enqueue(id) {
		s.tel.load(loadOverflow)
		s.fallBack(strings.Clone(id), localSeen, ts, false)
		return true
	}
	pl := &pendingLoad{since: ts, localSeen: localSeen}
	s.pending[strings.Clone(id)] = pl
	return !s.hold(id, pl, ev, sp, ts)
}

// hold appends the record to pl, or, past max_held_spans, releases pl's
// records for judgement and reports false (observe this one at once).
func (s *sharedStore) hold(id string, pl *pendingLoad, ev *sandboxevent.Event, sp detect.Span, ts int64) bool {
	if s.held >= s.cfg.MaxHeldSpans {
		s.tel.load(loadOverflow)
		s.release(id, pl)
		s.fallBack(strings.Clone(id), pl.localSeen, ts, true)
		return false
	}
	s.held++
	pl.recs = append(pl.recs, heldRecord{ev: cloneEvent(ev), sp: sp, ts: ts})
	return true
}

// cloneEvent copies an event's strings out of pdata memory: a held record
// outlives the request it came in.
func cloneEvent(ev *sandboxevent.Event) sandboxevent.Event {
	c := *ev
	for _, p := range []*string{&c.ExtensionID, &c.Target, &c.URL, &c.Operation, &c.Capability, &c.Decision, &c.ErrorCode, &c.BlockType, &c.Query, &c.DBSystem} {
		*p = strings.Clone(*p)
	}
	return c
}

// release judges pl's held records and forgets pl.
func (s *sharedStore) release(id string, pl *pendingLoad) {
	for i := range pl.recs {
		s.b.eng.Observe(&pl.recs[i].ev, pl.recs[i].sp, pl.recs[i].ts)
	}
	s.held -= len(pl.recs)
	delete(s.pending, id)
}

func (s *sharedStore) fallBack(id string, localSeen, ts int64, inflight bool) {
	if len(s.fellBack) >= s.b.cfg.MaxExtensions {
		return
	}
	s.fellBack[id] = &fallback{localSeen: localSeen, retryAt: ts + int64(s.cfg.RetryInterval), inflight: inflight}
}

func (s *sharedStore) enqueue(id string) bool {
	select {
	case s.jobs <- strings.Clone(id):
		return true
	default:
		return false
	}
}

func (s *sharedStore) loader() {
	defer s.wg.Done()
	for {
		select {
		case <-s.ctx.Done():
			return
		case id := <-s.jobs:
			start := time.Now()
			snap, err := s.fetch(id)
			select {
			case s.results <- loadResult{id: id, snap: snap, err: err, took: time.Since(start)}:
			case <-s.ctx.Done():
				return
			}
		}
	}
}

// fetch reads id's stored profile; nothing stored is (nil, nil).
func (s *sharedStore) fetch(id string) (*profile.Snapshot, error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.Timeout)
	defer cancel()
	data, err := s.bucket.ReadAll(ctx, persist.ObjectKey(s.cfg.Prefix, id))
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	o, err := persist.DecodeObject(data)
	if err != nil {
		return nil, err
	}
	if o.Profile.ID != id {
		return nil, fmt.Errorf("object of %q holds the profile of %q", id, o.Profile.ID)
	}
	return &o.Profile, nil
}

// run applies load results as they arrive and releases held records whose
// load outlived load_timeout.
func (s *sharedStore) run() {
	defer s.wg.Done()
	t := time.NewTicker(min(max(s.cfg.LoadTimeout/4, 10*time.Millisecond), 100*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case r := <-s.results:
			rs := []loadResult{r}
			for len(rs) < 256 {
				select {
				case r := <-s.results:
					rs = append(rs, r)
					continue
				default:
				}
				break
			}
			s.locked(func(ts int64) { s.apply(rs, ts) })
		case <-t.C:
			s.locked(s.expire)
		}
	}
}

// locked runs fn under b.mu, then judges what it released and sends the
// anomalies.
func (s *sharedStore) locked(fn func(ts int64)) {
	now := s.b.now()
	s.b.mu.Lock()
	fn(now.UnixNano())
	s.b.eng.EndBatch(now.UnixNano())
	ld := s.b.drainLocked(now)
	s.b.mu.Unlock()
	s.b.send(context.Background(), ld, nil)
}

func (s *sharedStore) apply(rs []loadResult, ts int64) {
	for _, r := range rs {
		s.tel.duration(r.took)
		pl := s.pending[r.id]
		fb := s.fellBack[r.id]
		var localSeen int64
		switch {
		case pl != nil:
			localSeen = pl.localSeen
		case fb != nil:
			localSeen = fb.localSeen
		default:
			continue // released at shutdown
		}
		if r.err != nil {
			s.tel.load(loadError)
			s.b.set.Logger.Debug("baseline: loading a stored profile failed", zap.String("extension", r.id), zap.Error(r.err))
			if pl != nil {
				s.release(r.id, pl)
				s.fallBack(r.id, localSeen, ts, false)
			} else {
				fb.inflight, fb.retryAt = false, ts+int64(s.cfg.RetryInterval)
			}
			continue
		}
		switch {
		case r.snap != nil && r.snap.LastSeen > localSeen:
			s.b.eng.Restore([]profile.Snapshot{*r.snap})
			if pl != nil {
				s.tel.load(loadLoaded)
			} else {
				s.tel.load(loadLate)
			}
		case r.snap != nil:
			s.tel.load(loadCurrent)
		default:
			s.tel.load(loadAbsent)
		}
		if pl != nil {
			s.release(r.id, pl)
		}
		delete(s.fellBack, r.id)
	}
}

func (s *sharedStore) expire(ts int64) {
	for id, pl := range s.pending {
		if ts-pl.since >= int64(s.cfg.LoadTimeout) {
			s.tel.load(loadTimeout)
			s.release(id, pl)
			s.fallBack(id, pl.localSeen, ts, true)
		}
	}
}

// shutdown stops the loaders and loops and releases every held record for
// the final judgement (the store is not waited for on the way out).
func (s *sharedStore) shutdown() {
	close(s.stop)
	s.cancel()
	s.wg.Wait()
	s.b.mu.Lock()
	for id, pl := range s.pending {
		s.release(id, pl)
	}
	s.b.mu.Unlock()
}
