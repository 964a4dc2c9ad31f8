//go:build unix

package sipptest

import (
	"os"
	"syscall"
)

// softExit returns the signal that makes sipp stop placing or taking new
// calls and exit once the calls in progress end.
func softExit() os.Signal { return syscall.SIGUSR1 }
