package wal

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzRecover: whatever follows a segment's magic (a torn write, a
// damaged disk), the log opens, replays a prefix of good records, and
// takes appends after it.
func FuzzRecover(f *testing.F) {
	good := frame(frame(nil, []byte("one")), []byte("two"))
	f.Add(good)
	f.Add(append(good, 0, 0, 0, 0))
	f.Add(good[:len(good)-2])
	f.Add([]byte{0xff, 0xff, 0xff, 0x7f, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, tail []byte) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(segName(dir, 1), append([]byte(segMagic), tail...), 0o600))
		l, rec, err := Open(Options{Dir: dir, MaxBytes: 1 << 30, Sync: SyncNever})
		require.NoError(t, err)
		defer l.Close()
		require.LessOrEqual(t, rec.Cut, int64(len(tail)))
		require.NoError(t, l.Append([]byte("after")))
		r := l.Reader()
		defer r.Close()
		n, last := 0, ""
		for {
			p, _, ok, err := r.Next(nil)
			require.NoError(t, err)
			if !ok {
				break
			}
			n, last = n+1, string(p)
		}
		require.Equal(t, rec.Records+1, n)
		require.Equal(t, "after", last)
	})
}
