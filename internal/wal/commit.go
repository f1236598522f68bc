package wal

import (
	"fmt"
	"time"
)

// commitLoop is the group commit: it takes every append waiting, writes
// them with one write(2) (and one fdatasync under SyncAlways), then
// answers them all.
func (l *Log) commitLoop() {
	defer close(l.stopped)
	var (
		group []*appendReq
		buf   []byte
		dirty bool
	)
	tick := time.NewTicker(l.opts.SyncInterval)
	defer tick.Stop()
	for {
		group = group[:0]
		select {
		case r := <-l.reqs:
			group = append(group, r)
		case <-tick.C:
			if dirty && l.opts.Sync == SyncInterval {
				l.syncActive()
				dirty = false
			}
			continue
		case <-l.stop:
			return // reqs is unbuffered: no append is left waiting
		}
		buf = frame(buf[:0], group[0].parts...)
	more:
		for len(buf) < 8<<20 {
			select {
			case r := <-l.reqs:
				group = append(group, r)
				buf = frame(buf, r.parts...)
			default:
				break more
			}
		}
		err := l.write(buf)
		dirty = err == nil
		for _, r := range group {
			if err != nil {
				l.budget.release(r.size)
			}
			r.done <- err
		}
		if cap(buf) > 32<<20 {
			buf = nil // one huge group must not pin its buffer
		}
		buf = buf[:0]
	}
}

// write appends buf to the active segment, rotating first when it is
// full, and publishes the new size to the reader.
func (l *Log) write(buf []byte) error {
	l.mu.Lock()
	cur := l.segs[len(l.segs)-1]
	f := l.active
	l.mu.Unlock()
	if cur.size > int64(len(segMagic)) && cur.size+int64(len(buf)) > l.opts.SegmentBytes {
		if err := l.startSegment(cur.id + 1); err != nil {
			return err
		}
		l.mu.Lock()
		cur, f = l.segs[len(l.segs)-1], l.active
		l.mu.Unlock()
	}
	if _, err := f.Write(buf); err != nil {
		// A partial write leaves a torn record: cut it, so the next
		// append does not follow garbage.
		_ = f.Truncate(cur.size)
		return fmt.Errorf("wal: write: %w", err)
	}
	if l.opts.Sync == SyncAlways {
		if err := fdatasync(f); err != nil {
			return fmt.Errorf("wal: sync: %w", err)
		}
	}
	l.mu.Lock()
	l.segs[len(l.segs)-1].size = cur.size + int64(len(buf))
	l.mu.Unlock()
	select {
	case l.notify <- struct{}{}:
	default:
	}
	return nil
}

func (l *Log) syncActive() {
	l.mu.Lock()
	f := l.active
	l.mu.Unlock()
	if err := fdatasync(f); err != nil {
		l.mu.Lock()
		l.syncErr = err
		l.mu.Unlock()
	}
}
