package registry_test

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/sipstreams/sipstreams/internal/plugintest"
	"go.uber.org/goleak"
)

// echoBin is the real echo plugin binary, built once for the package's tests.
var echoBin string

func TestMain(m *testing.M) {
	if os.Getenv(helperHostEnv) != "" {
		os.Exit(helperHost())
	}
	flag.Parse()
	if f := flag.Lookup("test.fuzzworker"); f != nil && f.Value.String() == "true" {
		// A fuzz worker runs only the fuzz target, which needs no plugin:
		// building one per worker would stall the fuzzer.
		os.Exit(m.Run())
	}
	dir, bin, err := plugintest.EchoDir()
	if err != nil {
		fmt.Fprintln(os.Stderr, "building the echo plugin:", err)
		os.Exit(1)
	}
	echoBin = bin
	code := 0
	func() {
		defer os.RemoveAll(dir)
		defer func() {
			if pyEchoDir != "" {
				os.RemoveAll(pyEchoDir)
			}
		}()
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
