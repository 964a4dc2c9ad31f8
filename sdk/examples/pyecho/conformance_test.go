package pyecho_test

import (
	"testing"

	"github.com/sipstreams/sipstreams/internal/plugintest"
	"github.com/sipstreams/sipstreams/sdk/streamtest"
)

// TestConformanceBinary packages the Python plugin and runs the contract's
// conformance suite against it as a host starts it: a child process behind
// go-plugin, with AutoMTLS and the health check.
func TestConformanceBinary(t *testing.T) {
	bin, err := plugintest.PyEcho(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	streamtest.RunBinary(t, bin)
}
