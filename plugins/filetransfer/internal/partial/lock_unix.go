//go:build unix

package partial

import (
	"os"
	"syscall"
)

// tryLock takes an exclusive advisory lock on f without waiting; it
// reports false when another open file (of this process or another)
// holds one.
func tryLock(f *os.File) (unlock func(), ok bool) {
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return nil, false
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }, true
}
