package audiostream_test

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/audiostream"
	"github.com/sipstreams/sipstreams/sdk/streamtest"
)

// TestConformance runs the contract's conformance suite against the audio
// plugin, in-process (with its goroutine leak check) and over gRPC.
func TestConformance(t *testing.T) {
	streamtest.Run(t, audiostream.Plugin("test"))
}

// TestConformanceBinary builds the plugin binary and runs the suite against
// it as a host starts it.
func TestConformanceBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	bin := filepath.Join(t.TempDir(), "sipstreams-plugin-audio")
	if out, err := exec.Command("go", "build", "-o", bin, "../..").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	streamtest.RunBinary(t, bin)
}
