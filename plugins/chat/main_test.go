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
	"github.com/sipstreams/sipstreams/sdk/chat"
)

// TestDescribe builds the binary and checks what `describe` prints, and
// that it refuses to run without a host.
func TestDescribe(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	bin := filepath.Join(t.TempDir(), "sipstreams-plugin-chat")
	if out, err := exec.Command("go", "build", "-ldflags", "-X main.version=1.2.3-test", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	run := func(args ...string) (stdout, stderr string, code int) {
		cmd := exec.Command(bin, args...)
		cookie := sdk.Handshake().MagicCookieKey
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, cookie+"=") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		var exit *exec.ExitError
		if err := cmd.Run(); errors.As(err, &exit) {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errOut.String(), code
	}

	stdout, stderr, code := run("describe")
	if code != 0 {
		t.Fatalf("describe: exit %d, stderr %q", code, stderr)
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
	if m.Name != "chat" || m.Version != "1.2.3-test" || len(m.StreamTypes) != 1 || m.StreamTypes[0].Type != chat.Type {
		t.Fatalf("manifest %+v", m)
	}

	if stdout, _, code := run(); code == 0 || stdout != "" {
		t.Fatalf("without a host: exit %d, stdout %q", code, stdout)
	}
}
