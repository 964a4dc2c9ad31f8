package session

import (
	"fmt"
	"os"
	"testing"

	"github.com/sipstreams/sipstreams/internal/plugintest"
	"go.uber.org/goleak"
)

// pluginDir holds the real echo plugin binary, built once for the tests.
var pluginDir string

func TestMain(m *testing.M) {
	dir, _, err := plugintest.EchoDir()
	if err != nil {
		fmt.Fprintln(os.Stderr, "building the echo plugin:", err)
		os.Exit(1)
	}
	pluginDir = dir
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goroutine leak:", err)
			code = 1
		}
	}
	os.RemoveAll(dir)
	os.Exit(code)
}
