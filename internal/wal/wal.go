// Package wal is a write-ahead log of opaque records: append-only segment
// files, length + CRC-32C framed records, group commit with an fsync
// policy, a disk bound that refuses appends (back-pressure, never silent
// loss), and replay from a persisted cursor at start-up. A torn or damaged
// segment tail is cut at the last good record and counted; it never stops
// the log from opening.
//
// One writer appends (Append, safe for concurrent callers: they share a
// write and an fsync); one reader follows (Reader) and releases what has
// been consumed for good (Release), after which wholly released segments
// are deleted. This is the Tempo ingester's WAL in miniature.
package wal

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// Sync is when appended data is flushed to stable storage.
type Sync string

const (
	// SyncAlways: an append returns after its group's fdatasync. Survives
	// power loss; costs one fsync per group of concurrent appends.
	SyncAlways Sync = "always"
	// SyncInterval: an append returns after its group's write(2); a
	// background fsync runs every Options.SyncInterval. Survives a process
	// crash or SIGKILL (the data is in the page cache); an OS crash or
	// power loss may lose the last interval.
	SyncInterval Sync = "interval"
	// SyncNever: the OS decides when to write back. Survives a process
	// crash, not an OS crash.
	SyncNever Sync = "never"
)

var (
	// ErrFull: the log holds MaxBytes; the append was refused and may be
	// retried once the reader has released data.
	ErrFull = errors.New("wal: full")
	// ErrTooLarge: the record alone exceeds MaxBytes; no retry helps.
	ErrTooLarge = errors.New("wal: record larger than the log's max_bytes")
	// ErrClosed: the log was closed.
	ErrClosed = errors.New("wal: closed")
)

// Options of a log.
type Options struct {
	Dir          string
	MaxBytes     int64 // bound on the bytes of all segments (and of Budget when set)
	SegmentBytes int64 // a segment is closed and a new one started past this size
	Sync         Sync
	SyncInterval time.Duration // for SyncInterval
	// Budget, when set, is a disk bound shared with other logs (e.g. one
	// per signal of one exporter); MaxBytes is then ignored.
	Budget *Budget
}

// Pos is a position in the log: the byte offset Off in segment Seg.
type Pos struct {
	Seg uint64
	Off int64
}

// Less orders positions.
func (p Pos) Less(o Pos) bool { return p.Seg < o.Seg || (p.Seg == o.Seg && p.Off < o.Off) }

// Recovery is what Open found.
type Recovery struct {
	Segments int   // segments found
	Records  int   // good records in them, replayed or not
	Pending  int64 // bytes not yet released (what the reader replays)
	Cut      int64 // bytes of torn or damaged tails cut off
	Damaged  int   // segments whose tail was cut
}

// Log is an open write-ahead log.
type Log struct {
	opts   Options
	budget *Budget

	mu      sync.Mutex
	segs    []segment // oldest first; the last is the active one
	cursor  Pos       // everything before it is released
	notify  chan struct{}
	active  *os.File
	lock    *os.File
	closed  bool
	syncErr error

	reqs    chan *appendReq
	stop    chan struct{}
	stopped chan struct{}
}

type segment struct {
	id   uint64
	size int64 // committed bytes (written, under the sync policy)
}

type appendReq struct {
	parts [][]byte
	size  int64 // framed
	done  chan error
}

// Open recovers the log in opts.Dir (created when missing) and starts a
// new active segment after the recovered ones.
func Open(opts Options) (*Log, Recovery, error) {
	if opts.SegmentBytes <= 0 {
		opts.SegmentBytes = 16 << 20
	}
	if opts.Sync == "" {
		opts.Sync = SyncInterval
	}
	if opts.SyncInterval <= 0 {
		opts.SyncInterval = time.Second
	}
	budget := opts.Budget
	if budget == nil {
		budget = NewBudget(opts.MaxBytes)
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, Recovery{}, fmt.Errorf("wal: %w", err)
	}
	lock, err := lockDir(opts.Dir)
	if err != nil {
		return nil, Recovery{}, err
	}
	l := &Log{opts: opts, budget: budget, notify: make(chan struct{}, 1), lock: lock,
		reqs: make(chan *appendReq), stop: make(chan struct{}), stopped: make(chan struct{})}
	rec, last, err := l.recover()
	if err != nil {
		l.unlock()
		return nil, rec, err
	}
	// Past every segment found and the cursor, even when recovery deleted
	// them all: a new segment must sort after what was released.
	if err := l.startSegment(max(l.cursor.Seg, last) + 1); err != nil {
		l.unlock()
		return nil, rec, err
	}
	go l.commitLoop()
	return l, rec, nil
}

// recover scans every segment, cuts damaged tails, reads the cursor and
// deletes segments wholly before it. last is the highest segment id found.
func (l *Log) recover() (rec Recovery, last uint64, err error) {
	ids, err := listSegments(l.opts.Dir)
	if err != nil {
		return rec, 0, fmt.Errorf("wal: %w", err)
	}
	if len(ids) > 0 {
		last = ids[len(ids)-1]
	}
	for _, id := range ids {
		r, err := scanSegment(segName(l.opts.Dir, id))
		if err != nil {
			return rec, last, fmt.Errorf("wal: recover segment %d: %w", id, err)
		}
		rec.Segments++
		rec.Records += r.records
		if r.cut > 0 {
			rec.Cut += r.cut
			rec.Damaged++
		}
		l.segs = append(l.segs, segment{id: id, size: r.good})
	}
	l.cursor = readCursor(l.opts.Dir)
	// The cursor may name a deleted segment, or an offset past a tail
	// that was cut (the OS lost unsynced data but kept the cursor): clamp
	// it to what exists.
	if len(l.segs) > 0 && l.cursor.Less(Pos{l.segs[0].id, 0}) {
		l.cursor = Pos{l.segs[0].id, 0}
	}
	for _, s := range l.segs {
		if s.id == l.cursor.Seg && l.cursor.Off > s.size {
			l.cursor.Off = s.size
		}
	}
	l.dropReleased()
	for _, s := range l.segs {
		// Counted even past the bound (e.g. after it was lowered): appends
		// then wait until the replay has released enough.
		l.budget.used.Add(s.size)
		switch {
		case s.id > l.cursor.Seg:
			rec.Pending += s.size - int64(len(segMagic))
		case s.id == l.cursor.Seg:
			rec.Pending += s.size - max(l.cursor.Off, int64(len(segMagic)))
		}
	}
	return rec, last, nil
}

// dropReleased deletes segments that end at or before the cursor, except
// the active one. Called with l.mu held (or before the log is shared).
func (l *Log) dropReleased() {
	for len(l.segs) > 0 {
		s := l.segs[0]
		before := s.id < l.cursor.Seg || (s.id == l.cursor.Seg && l.cursor.Off >= s.size)
		if !before || (l.active != nil && len(l.segs) == 1) {
			return
		}
		if err := os.Remove(segName(l.opts.Dir, s.id)); err != nil && !os.IsNotExist(err) {
			return // retried at the next release
		}
		l.budget.release(s.size)
		l.segs = l.segs[1:]
	}
}

func (l *Log) startSegment(id uint64) error {
	f, err := os.OpenFile(segName(l.opts.Dir, id), os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("wal: new segment: %w", err)
	}
	if _, err := f.Write([]byte(segMagic)); err != nil {
		f.Close()
		return fmt.Errorf("wal: new segment: %w", err)
	}
	if l.opts.Sync == SyncAlways {
		if err := syncDir(l.opts.Dir); err != nil {
			f.Close()
			return err
		}
	}
	size := int64(len(segMagic))
	l.budget.used.Add(size) // the magic is not worth refusing a rotation for
	l.mu.Lock()
	old := l.active
	l.active = f
	l.segs = append(l.segs, segment{id: id, size: size})
	l.mu.Unlock()
	if old != nil {
		if l.opts.Sync != SyncNever {
			_ = old.Sync()
		}
		return old.Close()
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Append writes the concatenated parts as one record and returns once it
// is committed under the sync policy, or ErrFull when the log holds
// MaxBytes (retry later), ErrTooLarge, ErrClosed, or an I/O error. The
// parts may be reused on return.
func (l *Log) Append(parts ...[]byte) error {
	size := int64(headerSize)
	for _, p := range parts {
		size += int64(len(p))
	}
	if size == headerSize {
		return errors.New("wal: empty record")
	}
	if size-headerSize > maxRecord {
		return ErrTooLarge
	}
	if err := l.budget.reserve(size); err != nil {
		return err
	}
	r := &appendReq{parts: parts, size: size, done: make(chan error, 1)}
	select {
	case l.reqs <- r:
	case <-l.stop:
		l.budget.release(size)
		return ErrClosed
	}
	return <-r.done
}

// Bytes is the log's size on disk as the bound counts it.
func (l *Log) Bytes() int64 { return l.budget.Used() }

// Notify is signalled after every commit: a reader waiting for records
// selects on it.
func (l *Log) Notify() <-chan struct{} { return l.notify }

// Release records that everything before p has been consumed for good:
// the cursor is persisted and segments wholly before it are deleted.
func (l *Log) Release(p Pos) error {
	l.mu.Lock()
	ahead := l.cursor.Less(p)
	l.mu.Unlock()
	if !ahead {
		return nil
	}
	// Outside the lock: the cursor's fsync must not stall appends. There
	// is one reader, so releases do not race each other.
	if err := writeCursor(l.opts.Dir, p, l.opts.Sync != SyncNever); err != nil {
		return fmt.Errorf("wal: cursor: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cursor = p
	l.dropReleased()
	return nil
}

// Close stops appends (pending ones get ErrClosed), syncs and closes the
// active segment. Unreleased records are replayed by the next Open.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	close(l.stop)
	<-l.stopped
	l.mu.Lock()
	defer l.mu.Unlock()
	var err error
	if l.opts.Sync != SyncNever {
		err = l.active.Sync()
	}
	return errors.Join(err, l.active.Close(), l.syncErr, l.unlock())
}

func (l *Log) unlock() error {
	if l.lock == nil {
		return nil
	}
	return l.lock.Close() // closing drops the flock
}
