package python_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/internal/plugintest"
	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/streamtest"
)

// python runs Debian's python3 in this directory with args.
func python(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(plugintest.Python, append([]string{"-B"}, args...)...)
	cmd.Env = append(os.Environ(), "PYTHONPATH=.")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python3 %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestKitUnit runs the kit's Python unit tests (tests/).
func TestKitUnit(t *testing.T) {
	out := python(t, "-m", "unittest", "discover", "-s", "tests", "-t", ".")
	t.Log(out)
}

// TestContractVersion: the kit implements the contract version of the Go
// SDK it ships with, and shares its handshake cookie; a contract change
// that forgets the kit fails here.
func TestContractVersion(t *testing.T) {
	out := python(t, "-c", "import sipstreams_plugin as k, sipstreams_plugin.goplugin as s; "+
		"print(k.CONTRACT_MAJOR, k.CONTRACT_MINOR, s.HANDSHAKE_COOKIE_KEY, s.HANDSHAKE_COOKIE_VALUE, s.MAX_MESSAGE_SIZE)")
	hs := sdk.Handshake()
	want := strings.Join([]string{
		strconv.Itoa(sdk.ContractMajor), strconv.Itoa(sdk.ContractMinor), hs.MagicCookieKey, hs.MagicCookieValue, strconv.Itoa(sdk.MaxMessageSize),
	}, " ")
	if got := strings.TrimSpace(out); got != want {
		t.Fatalf("kit says %q, the Go SDK %q", got, want)
	}
}

// TestBrokenPlugins packages Python plugins that break the contract in one
// way each (testdata/broken) and checks that the conformance suite fails
// each with a message that names what is wrong.
func TestBrokenPlugins(t *testing.T) {
	cases := []struct {
		name string
		// want are substrings of the failures expected.
		want []string
	}{
		{"badhandshake", []string{"the go-plugin handshake failed", "Plugin version: 2, Client versions: [1]"}},
		{"plaintext", []string{"the TLS handshake of go-plugin's AutoMTLS failed", "first record does not look like a TLS handshake"}},
		{"nohealth", []string{"does not answer go-plugin's health check", "grpc.health.v1.Health", "Unimplemented"}},
		{"lateposts", []string{"quiet-after-end", "posted [PyEchoStreamDidFlushStats] after MediaStreamDidEnd"}},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bin, err := plugintest.BuildPython(dir, c.name, c.name+":main", "broken",
				filepath.Join("sdk/python/testdata/broken", c.name+".py"), plugintest.PyEchoSource)
			if err != nil {
				t.Fatal(err)
			}
			// A bound, not a wait: each broken plugin fails as soon as it
			// shows its fault, but Python may take seconds to get there on
			// a loaded machine.
			rep := streamtest.CheckBinary(bin, streamtest.WithTimeout(time.Minute))
			if !rep.Failed {
				t.Fatalf("the suite passed a plugin that is broken (%s):\n%s", c.name, rep)
			}
			failures := strings.Join(rep.Failures(), "\n")
			for _, w := range c.want {
				if !strings.Contains(failures, w) {
					t.Errorf("no failure mentions %q:\n%s", w, failures)
				}
			}
			t.Logf("failures:\n%s", failures)
		})
	}
}
