package wal

import (
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func open(t *testing.T, dir string, o Options) (*Log, Recovery) {
	t.Helper()
	o.Dir = dir
	if o.MaxBytes == 0 {
		o.MaxBytes = 1 << 30
	}
	l, rec, err := Open(o)
	require.NoError(t, err)
	return l, rec
}

func record(i int) []byte { return []byte(fmt.Sprintf("record-%06d-%s", i, "payload")) }

// readAll reads every committed record, releasing none.
func readAll(t *testing.T, r *Reader) ([]string, Pos) {
	t.Helper()
	var out []string
	var end Pos
	var buf []byte
	for {
		rec, e, ok, err := r.Next(buf)
		require.NoError(t, err)
		if !ok {
			return out, end
		}
		buf = rec
		out = append(out, string(rec))
		end = e
	}
}

func segFiles(t *testing.T, dir string) []uint64 {
	ids, err := listSegments(dir)
	require.NoError(t, err)
	return ids
}

func TestAppendReadReleaseReplay(t *testing.T) {
	dir := t.TempDir()
	l, rec := open(t, dir, Options{SegmentBytes: 256, Sync: SyncAlways})
	assert.Zero(t, rec.Segments)
	for i := range 40 {
		require.NoError(t, l.Append(record(i)))
	}
	assert.Greater(t, len(segFiles(t, dir)), 3, "small segments rotate")
	r := l.Reader()
	got, _ := readAll(t, r)
	require.Len(t, got, 40)
	assert.Equal(t, string(record(0)), got[0])
	assert.Equal(t, string(record(39)), got[39])

	// Release the first 25 (a position mid-log); earlier segments go.
	r2 := l.Reader()
	var at Pos
	for range 25 {
		_, e, ok, err := r2.Next(nil)
		require.NoError(t, err)
		require.True(t, ok)
		at = e
	}
	before := l.Bytes()
	require.NoError(t, l.Release(at))
	assert.Less(t, l.Bytes(), before, "released segments free their bytes")
	for _, id := range segFiles(t, dir) {
		assert.GreaterOrEqual(t, id, at.Seg, "segment %d is wholly released yet kept", id)
	}
	require.NoError(t, r.Close())
	require.NoError(t, r2.Close())
	require.NoError(t, l.Close())

	// Reopen: exactly the unreleased 15 are replayed, then new appends.
	l, rec = open(t, dir, Options{SegmentBytes: 256})
	defer l.Close()
	assert.Zero(t, rec.Cut)
	assert.Positive(t, rec.Pending)
	r = l.Reader()
	defer r.Close()
	require.NoError(t, l.Append(record(40)))
	got, _ = readAll(t, r)
	require.Len(t, got, 16)
	assert.Equal(t, string(record(25)), got[0])
	assert.Equal(t, string(record(40)), got[15])
}

// A torn tail (a crash mid-write) is cut at the last good record and
// counted; the log opens and keeps every record before it.
func TestTornTailIsCut(t *testing.T) {
	for name, tc := range map[string]struct {
		damage func(t *testing.T, path string)
		kept   int
	}{
		"half a record": {kept: 9, damage: func(t *testing.T, path string) {
			fi, err := os.Stat(path)
			require.NoError(t, err)
			require.NoError(t, os.Truncate(path, fi.Size()-5))
		}},
		"zero-filled tail": {kept: 10, damage: func(t *testing.T, path string) {
			f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			require.NoError(t, err)
			_, err = f.Write(make([]byte, 4096))
			require.NoError(t, err)
			require.NoError(t, f.Close())
		}},
		"flipped byte in the last record": {kept: 9, damage: func(t *testing.T, path string) {
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			b[len(b)-3] ^= 0xff
			require.NoError(t, os.WriteFile(path, b, 0o600))
		}},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			l, _ := open(t, dir, Options{Sync: SyncNever})
			for i := range 10 {
				require.NoError(t, l.Append(record(i)))
			}
			require.NoError(t, l.Close())
			ids := segFiles(t, dir)
			tc.damage(t, segName(dir, ids[len(ids)-1]))

			l, rec := open(t, dir, Options{})
			defer l.Close()
			assert.Equal(t, 1, rec.Damaged)
			assert.Positive(t, rec.Cut)
			assert.Equal(t, tc.kept, rec.Records)
			r := l.Reader()
			defer r.Close()
			got, _ := readAll(t, r)
			require.Len(t, got, tc.kept)
			assert.Equal(t, string(record(tc.kept-1)), got[tc.kept-1])
			require.NoError(t, l.Append(record(99)))
			got, _ = readAll(t, r)
			assert.Equal(t, []string{string(record(99))}, got, "appends after a cut tail are read")
		})
	}
}

// Damage in an older segment loses that segment's tail only.
func TestDamagedMiddleSegment(t *testing.T) {
	dir := t.TempDir()
	l, _ := open(t, dir, Options{SegmentBytes: 200})
	for i := range 30 {
		require.NoError(t, l.Append(record(i)))
	}
	require.NoError(t, l.Close())
	ids := segFiles(t, dir)
	require.Greater(t, len(ids), 3)
	p := segName(dir, ids[1])
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	b[len(segMagic)+headerSize+2] ^= 0x55 // the first record's payload
	require.NoError(t, os.WriteFile(p, b, 0o600))

	l, rec := open(t, dir, Options{})
	defer l.Close()
	assert.Equal(t, 1, rec.Damaged)
	r := l.Reader()
	defer r.Close()
	got, _ := readAll(t, r)
	assert.Less(t, len(got), 30)
	assert.Greater(t, len(got), 20, "later segments survive")
	assert.Equal(t, string(record(29)), got[len(got)-1])
}

func TestBadMagicAndForeignFiles(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(segName(dir, 3), []byte("SWW"), 0o600))
	require.NoError(t, os.WriteFile(dir+"/notes.txt", []byte("hello"), 0o600))
	l, rec := open(t, dir, Options{})
	defer l.Close()
	assert.Equal(t, int64(3), rec.Cut)
	require.NoError(t, l.Append(record(1)))
	r := l.Reader()
	defer r.Close()
	got, _ := readAll(t, r)
	assert.Equal(t, []string{string(record(1))}, got)
	assert.Equal(t, []uint64{4}, segFiles(t, dir), "the empty segment is gone; new ones follow it")
}

// The disk bound refuses appends (retryable) until data is released.
func TestFullThenRelease(t *testing.T) {
	dir := t.TempDir()
	l, _ := open(t, dir, Options{MaxBytes: 1000, SegmentBytes: 300})
	defer l.Close()
	var n int
	var err error
	for n = 0; n < 100; n++ {
		if err = l.Append(record(n)); err != nil {
			break
		}
	}
	require.ErrorIs(t, err, ErrFull)
	assert.LessOrEqual(t, l.Bytes(), int64(1000))
	assert.ErrorIs(t, l.Append(make([]byte, 2000)), ErrTooLarge)

	r := l.Reader()
	defer r.Close()
	got, end := readAll(t, r)
	require.Len(t, got, n)
	require.NoError(t, l.Release(end))
	require.NoError(t, l.Append(record(n)), "room again after the release")
	got, _ = readAll(t, r)
	assert.Equal(t, []string{string(record(n))}, got)
}

// Concurrent appends share writes; each record is read exactly once,
// under every sync policy.
func TestConcurrentAppendsGroupCommit(t *testing.T) {
	for _, s := range []Sync{SyncAlways, SyncInterval, SyncNever} {
		t.Run(string(s), func(t *testing.T) {
			dir := t.TempDir()
			l, _ := open(t, dir, Options{Sync: s, SyncInterval: 10 * time.Millisecond, SegmentBytes: 4096})
			const writers, each = 8, 200
			var wg sync.WaitGroup
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range each {
						assert.NoError(t, l.Append(record(w*each+i)))
					}
				}()
			}
			// The reader follows while appends run.
			seen := map[string]int{}
			r := l.Reader()
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			var buf []byte
			var last Pos
			for finished := false; ; {
				rec, end, ok, err := r.Next(buf)
				require.NoError(t, err)
				if ok {
					buf = rec
					seen[string(rec)]++
					last = end
					if len(seen)%100 == 0 { // a release writes the cursor: as per block, not per record
						require.NoError(t, l.Release(end))
					}
					continue
				}
				if finished {
					break
				}
				select {
				case <-l.Notify():
				case <-done:
					finished = true
				case <-time.After(50 * time.Millisecond):
				}
			}
			require.NoError(t, l.Release(last))
			require.NoError(t, r.Close())
			assert.Len(t, seen, writers*each)
			for k, n := range seen {
				require.Equal(t, 1, n, k)
			}
			require.NoError(t, l.Close())
			assert.LessOrEqual(t, len(segFiles(t, dir)), 1, "released segments are deleted")
			assert.ErrorIs(t, l.Append(record(0)), ErrClosed)
		})
	}
}

// One log, one process: a second Open of the same directory is refused
// until the first closes.
func TestDirectoryLocked(t *testing.T) {
	dir := t.TempDir()
	l, _ := open(t, dir, Options{})
	_, _, err := Open(Options{Dir: dir, MaxBytes: 1 << 20})
	require.ErrorContains(t, err, "in use")
	require.NoError(t, l.Close())
	l, _ = open(t, dir, Options{})
	require.NoError(t, l.Append([]byte("a"), []byte("bc")))
	r := l.Reader()
	defer r.Close()
	got, _ := readAll(t, r)
	assert.Equal(t, []string{"abc"}, got, "parts are one record")
	require.NoError(t, l.Close())
}

func TestSharedBudget(t *testing.T) {
	b := NewBudget(600)
	a, _ := open(t, t.TempDir(), Options{Budget: b})
	defer a.Close()
	c, _ := open(t, t.TempDir(), Options{Budget: b})
	defer c.Close()
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		if err = a.Append(record(i)); err == nil {
			err = c.Append(record(i))
		}
	}
	assert.ErrorIs(t, err, ErrFull)
	assert.LessOrEqual(t, b.Used(), int64(600))
}
