//go:build !unix

package sipptest

import "os"

// softExit returns os.Kill: without SIGUSR1, a stop is a kill.
func softExit() os.Signal { return os.Kill }
