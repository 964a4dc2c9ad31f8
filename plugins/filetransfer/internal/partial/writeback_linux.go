//go:build linux

package partial

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing bytes [from, to) of f
// to disk without waiting (sync_file_range SYNC_FILE_RANGE_WRITE), so
// that the fsync of Commit finds little left to write.
func startWriteback(f *os.File, from, to int64) {
	_ = unix.SyncFileRange(int(f.Fd()), from, to-from, unix.SYNC_FILE_RANGE_WRITE)
}
