package wal

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// Reader follows the log from its cursor: records not yet released at
// Open (the replay), then every record appended since, in order. One
// reader per log.
type Reader struct {
	l       *Log
	pos     Pos // the next record's start
	f       *os.File
	damaged int
}

// Reader returns a reader starting at the first unreleased record.
func (l *Log) Reader() *Reader {
	l.mu.Lock()
	defer l.mu.Unlock()
	return &Reader{l: l, pos: l.cursor}
}

// Damaged is how many records the reader found damaged and skipped with
// the rest of their segment (corruption after Open; recovery cuts the
// rest).
func (r *Reader) Damaged() int { return r.damaged }

// Next reads the next committed record into buf's storage. ok is false
// when there is none yet (wait on Log.Notify). end is the position after
// the record: Release(end) once it is consumed for good.
func (r *Reader) Next(buf []byte) (rec []byte, end Pos, ok bool, err error) {
	for {
		seg, limit, last, found := r.l.segmentFrom(r.pos.Seg)
		if !found {
			return buf[:0], r.pos, false, nil
		}
		if seg != r.pos.Seg {
			// Released and deleted, or a gap between recovered segments.
			r.moveTo(seg)
		}
		if r.pos.Off < int64(len(segMagic)) {
			r.pos.Off = int64(len(segMagic))
		}
		if r.pos.Off >= limit {
			if last {
				return buf[:0], r.pos, false, nil
			}
			r.moveTo(seg + 1)
			continue
		}
		if r.f == nil {
			f, err := os.Open(segName(r.l.opts.Dir, seg))
			if err != nil {
				return buf[:0], r.pos, false, fmt.Errorf("wal: open segment %d: %w", seg, err)
			}
			r.f = f
		}
		rec, next, err := readRecord(r.f, r.pos.Off, limit, buf)
		if errors.Is(err, errDamaged) || errors.Is(err, io.ErrUnexpectedEOF) {
			r.damaged++
			if last {
				return buf[:0], r.pos, false, fmt.Errorf("wal: damaged record in the active segment %d at %d", seg, r.pos.Off)
			}
			r.moveTo(seg + 1)
			continue
		}
		if err != nil {
			return buf[:0], r.pos, false, err
		}
		r.pos.Off = next
		return rec, r.pos, true, nil
	}
}

func (r *Reader) moveTo(seg uint64) {
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
	r.pos = Pos{Seg: seg}
}

// Close releases the reader's file.
func (r *Reader) Close() error {
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}

// segmentFrom returns the first segment whose id is at least id, its
// committed size and whether it is the active one.
func (l *Log) segmentFrom(id uint64) (seg uint64, size int64, last, found bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, s := range l.segs {
		if s.id >= id {
			return s.id, s.size, i == len(l.segs)-1, true
		}
	}
	return 0, 0, false, false
}
