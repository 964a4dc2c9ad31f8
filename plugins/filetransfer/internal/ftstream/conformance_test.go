package ftstream

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/filetransfer"
	"github.com/sipstreams/sipstreams/sdk/streamtest"
)

// conformanceOptions are the suite's options for a file transfer: a file
// to push (every A pushes it to its B) and a save directory.
func conformanceOptions(t *testing.T, settings map[string]string) []streamtest.Option {
	t.Helper()
	file := filepath.Join(t.TempDir(), "conformance.bin")
	if err := os.WriteFile(file, randomBytes(t, 200<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	s := map[string]string{filetransfer.SettingDirectory: t.TempDir()}
	for k, v := range settings {
		s[k] = v
	}
	return []streamtest.Option{
		streamtest.WithAccount(&sdk.Account{ID: "ft", URI: "sip:ft@127.0.0.1", Settings: s}),
		streamtest.WithCreateParams(filetransfer.Type, filetransfer.Push(file)),
	}
}

// TestConformance runs the contract's conformance suite against the file
// transfer plugin, in-process and over gRPC, with MSRP over TLS (the
// default) and over TCP.
func TestConformance(t *testing.T) {
	t.Run("tls", func(t *testing.T) {
		streamtest.Run(t, Plugin("test"), conformanceOptions(t, nil)...)
	})
	t.Run("tcp", func(t *testing.T) {
		streamtest.Run(t, Plugin("test"), conformanceOptions(t, map[string]string{"msrp.transport": "tcp"})...)
	})
}

// TestConformanceBinary builds the plugin binary and runs the suite against
// it as a host starts it: a child process behind go-plugin.
func TestConformanceBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	bin := filepath.Join(t.TempDir(), "sipstreams-plugin-filetransfer")
	if out, err := exec.Command("go", "build", "-o", bin, "../..").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	streamtest.RunBinary(t, bin, conformanceOptions(t, nil)...)
}
