package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sipstreams/sipstreams/sdk"
)

// build compiles the plugin binary with version into a temporary directory.
func build(t *testing.T, version string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	bin := filepath.Join(t.TempDir(), "sipstreams-plugin-audio")
	cmd := exec.Command("go", "build", "-ldflags", "-X main.version="+version, "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// run runs the binary without the host's handshake cookie.
func run(t *testing.T, bin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cookie := sdk.Handshake().MagicCookieKey
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, cookie+"=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code = exit.ExitCode()
	default:
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

func TestBinary(t *testing.T) {
	bin := build(t, "1.2.3-test")

	t.Run("describe", func(t *testing.T) {
		stdout, stderr, code := run(t, bin, "describe")
		if code != 0 {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
		var m sdk.Manifest
		dec := json.NewDecoder(strings.NewReader(stdout))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("manifest %q: %v", stdout, err)
		}
		if err := m.Validate(); err != nil {
			t.Fatal(err)
		}
		if m.Name != "audio" || m.Version != "1.2.3-test" || len(m.StreamTypes) != 1 {
			t.Fatalf("manifest %+v", m)
		}
		st := m.StreamTypes[0]
		if st.Type != "audio" || st.Priority != 1 || !st.HoldSupported || strings.Join(st.Codecs, ",") != "opus,G722,PCMU,PCMA" {
			t.Errorf("stream type %+v", st)
		}
		if got := strings.Join(m.Methods, ","); got != "list_devices,play_tones,play_wav,select_devices" {
			t.Errorf("methods %s", got)
		}
	})

	t.Run("without the host", func(t *testing.T) {
		stdout, stderr, code := run(t, bin)
		if code == 0 || stdout != "" {
			t.Fatalf("exit %d, stdout %q", code, stdout)
		}
		if !strings.Contains(stderr, "describe") {
			t.Fatalf("unhelpful stderr %q", stderr)
		}
	})
}
