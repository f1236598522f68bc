package wal

import (
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
)

// The cursor file: segment u64 | offset u64 | crc32c of the 16 bytes,
// replaced by rename so it is always one whole version.
const cursorFile = "cursor"

func writeCursor(dir string, p Pos, sync bool) error {
	b := binary.LittleEndian.AppendUint64(nil, p.Seg)
	b = binary.LittleEndian.AppendUint64(b, uint64(p.Off))
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
	tmp := filepath.Join(dir, cursorFile+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if sync {
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, cursorFile))
}

// readCursor returns the persisted cursor, or the zero position (replay
// everything) when there is none or it is damaged: a replay may write a
// batch twice, which readers of the archive tolerate; skipping one loses it.
func readCursor(dir string) Pos {
	b, err := os.ReadFile(filepath.Join(dir, cursorFile))
	if err != nil || len(b) != 20 || crc32.Checksum(b[:16], castagnoli) != binary.LittleEndian.Uint32(b[16:]) {
		return Pos{}
	}
	return Pos{Seg: binary.LittleEndian.Uint64(b), Off: int64(binary.LittleEndian.Uint64(b[8:]))}
}
