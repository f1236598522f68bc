package wal

import "sync/atomic"

// Budget is a byte bound several logs draw from.
type Budget struct {
	max  int64
	used atomic.Int64
}

// NewBudget returns a bound of max bytes.
func NewBudget(max int64) *Budget { return &Budget{max: max} }

// Used is the bytes held.
func (b *Budget) Used() int64 { return b.used.Load() }

func (b *Budget) reserve(n int64) error {
	if n > b.max {
		return ErrTooLarge
	}
	if b.used.Add(n) > b.max {
		b.used.Add(-n)
		return ErrFull
	}
	return nil
}

func (b *Budget) release(n int64) { b.used.Add(-n) }
