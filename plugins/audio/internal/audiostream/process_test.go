package audiostream_test

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/sipstreams/sipstreams/sdk"
	sdkaudio "github.com/sipstreams/sipstreams/sdk/audio"
)

// buildPlugin builds the plugin binary into a temporary directory.
func buildPlugin(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	bin := filepath.Join(t.TempDir(), "sipstreams-plugin-audio")
	if out, err := exec.Command("go", "build", "-o", bin, "../..").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startPlugin starts the binary as a host does and returns its provider;
// the process is killed when the test ends.
func startPlugin(t *testing.T, bin string) sdk.Provider {
	t.Helper()
	dir, err := os.MkdirTemp("", "spa") // unix socket paths must stay short
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake(),
		VersionedPlugins: sdk.VersionedPlugins(),
		Cmd:              exec.Command(bin),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		GRPCDialOptions:  sdk.GRPCDialOptions(),
		UnixSocketConfig: &plugin.UnixSocketConfig{TempDir: dir},
		Logger:           hclog.New(&hclog.LoggerOptions{Output: io.Discard}),
	})
	t.Cleanup(client.Kill)
	rpc, err := client.Client()
	if err != nil {
		t.Fatal(err)
	}
	p, err := sdk.Dispense(rpc)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTwoProcesses: the offerer and the answerer live in two plugin
// processes, driven over gRPC as a host drives them; each hears the other's
// tone, over SRTP, with DTMF both ways.
func TestTwoProcesses(t *testing.T) {
	bin := buildPlugin(t)
	h := &harness{t: t, owner: map[*sdk.Opened]int{}}
	h.add(startPlugin(t, bin))
	h.add(startPlugin(t, bin))
	settings := map[string]string{sdkaudio.SettingCodecList: "opus", sdkaudio.SettingSRTP: sdkaudio.SRTPMandatory}
	c := h.open(account("a", settings), account("b", settings))
	c.start(c.answer)
	recA, recB := exchange(t, c, false)
	hears(t, "A", recA, toneB)
	hears(t, "B", recB, toneA)
	mustCall(t, "dtmf", func(ctx context.Context) error { return sdkaudio.SendDTMF(ctx, c.a.Stream, "7") })
	mustCall(t, "dtmf", func(ctx context.Context) error { return sdkaudio.SendDTMF(ctx, c.b.Stream, "#") })
	h.waitNotification(c.b, sdkaudio.GotDTMF, 1)
	h.waitNotification(c.a, sdkaudio.GotDTMF, 1)
	if got := digits(t, h, c.b) + digits(t, h, c.a); got != "7#" {
		t.Errorf("digits %q, want \"7#\"", got)
	}
}
