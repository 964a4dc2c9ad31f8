package echostream_test

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/sipstreams/sipstreams/sdk/examples/echo/echostream"
	"github.com/sipstreams/sipstreams/sdk/streamtest"
)

// TestConformance runs the contract's conformance suite against the echo
// plugin, in-process and over gRPC.
func TestConformance(t *testing.T) {
	streamtest.Run(t, echostream.Plugin("test"))
}

// TestConformanceBinary builds the plugin binary and runs the suite against
// it as a host starts it: a child process behind go-plugin.
func TestConformanceBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "sipstreams-plugin-echo")
	if out, err := exec.Command("go", "build", "-o", bin, "..").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	streamtest.RunBinary(t, bin)
}
