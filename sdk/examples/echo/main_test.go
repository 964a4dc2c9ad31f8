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
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go tool: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "sipstreams-plugin-echo")
	cmd := exec.Command(goTool, "build", "-ldflags", "-X main.version="+version, "-o", bin, ".")
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
		if m.Name != "echo" || m.Version != "1.2.3-test" || len(m.StreamTypes) != 1 || m.StreamTypes[0].Type != "echo" {
			t.Fatalf("manifest %+v", m)
		}
	})

	t.Run("without the host", func(t *testing.T) {
		stdout, stderr, code := run(t, bin)
		if code == 0 {
			t.Fatal("exit 0 without a host")
		}
		if stdout != "" {
			t.Fatalf("stdout %q, want nothing", stdout)
		}
		if !strings.Contains(stderr, "plugin") || !strings.Contains(stderr, "describe") {
			t.Fatalf("unhelpful stderr %q", stderr)
		}
	})
}
