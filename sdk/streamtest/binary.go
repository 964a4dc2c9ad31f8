package streamtest

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

// Build compiles the plugin's main package in dir ("." for the package
// under test) with main.version set to version, into a temporary
// directory, and returns the binary's path. Under -short it skips the
// test: building takes seconds.
func Build(t testing.TB, dir, version string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "sipstreams-plugin-"+filepath.Base(abs))
	cmd := exec.Command("go", "build", "-ldflags", "-X main.version="+version, "-o", bin, ".")
	cmd.Dir = abs
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("streamtest: go build %s: %v\n%s", dir, err, out)
	}
	return bin
}

// Exec runs the plugin binary bin with args as a person would, without the
// host's handshake cookie in its environment, and returns what it printed
// and its exit code.
func Exec(t testing.TB, bin string, args ...string) (stdout, stderr string, code int) {
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
		t.Fatalf("streamtest: running %s: %v", bin, err)
	}
	return out.String(), errOut.String(), code
}

// Describe runs `bin describe` and returns the manifest it prints, which
// must decode strictly (no unknown field) and validate. It also checks
// that the binary, run without a host, exits non-zero with nothing on
// stdout and a hint on stderr (go-plugin reads stdout as the handshake).
func Describe(t testing.TB, bin string) sdk.Manifest {
	t.Helper()
	stdout, stderr, code := Exec(t, bin, "describe")
	if code != 0 {
		t.Fatalf("streamtest: %s describe: exit %d, stderr %q", bin, code, stderr)
	}
	var m sdk.Manifest
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("streamtest: manifest %q: %v", stdout, err)
	}
	if err := m.Validate(); err != nil {
		t.Fatalf("streamtest: manifest: %v", err)
	}
	stdout, stderr, code = Exec(t, bin)
	if code == 0 || stdout != "" {
		t.Fatalf("streamtest: %s without a host: exit %d, stdout %q", bin, code, stdout)
	}
	if !strings.Contains(stderr, "describe") {
		t.Errorf("streamtest: %s without a host says nothing helpful: %q", bin, stderr)
	}
	return m
}
