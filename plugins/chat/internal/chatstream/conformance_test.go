package chatstream

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/streamtest"
)

// TestConformance runs the contract's conformance suite against the chat
// plugin, in-process and over gRPC, with MSRP over TLS (the default) and
// over TCP.
func TestConformance(t *testing.T) {
	t.Run("tls", func(t *testing.T) {
		streamtest.Run(t, Plugin("test"))
	})
	t.Run("tcp", func(t *testing.T) {
		streamtest.Run(t, Plugin("test"), streamtest.WithAccount(&sdk.Account{
			ID: "tcp", URI: "sip:alice@example.com", Settings: map[string]string{"msrp.transport": "tcp"},
		}))
	})
}

// TestConformanceBinary builds the plugin binary and runs the suite against
// it as a host starts it: a child process behind go-plugin.
func TestConformanceBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	bin := filepath.Join(t.TempDir(), "sipstreams-plugin-chat")
	if out, err := exec.Command("go", "build", "-o", bin, "../..").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	streamtest.RunBinary(t, bin)
}
