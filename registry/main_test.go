package registry_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
)

// echoBin is the real echo plugin binary, built once for the package's tests.
var echoBin string

func TestMain(m *testing.M) {
	if os.Getenv(helperHostEnv) != "" {
		os.Exit(helperHost())
	}
	dir, err := os.MkdirTemp("", "registry-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	echoBin = filepath.Join(dir, "sipstreams-plugin-echo")
	build := exec.Command("go", "build", "-o", echoBin, "../sdk/examples/echo")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the echo plugin:", err)
		os.Exit(1)
	}
	code := 0
	func() {
		defer os.RemoveAll(dir)
		// goleak.VerifyTestMain would exit itself; run the check by hand so
		// the build directory is removed either way.
		code = m.Run()
		if code == 0 {
			if err := goleak.Find(goleak.IgnoreTopFunction("os/signal.signal_recv")); err != nil {
				fmt.Fprintln(os.Stderr, "goroutine leak:", err)
				code = 1
			}
		}
	}()
	os.Exit(code)
}
