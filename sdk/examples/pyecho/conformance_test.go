package pyecho_test

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/internal/plugintest"
	"github.com/sipstreams/sipstreams/sdk/examples/echo/echostream"
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
	// Python takes seconds to start on a loaded machine: a longer bound.
	streamtest.RunBinary(t, bin, streamtest.WithTimeout(time.Minute))
}

// pythonEnv is the environment of the plugin's Python tests: the kit and
// the plugin's package on the path.
func pythonEnv() []string {
	root := plugintest.Root()
	path := filepath.Join(root, "sdk", "python") + string(os.PathListSeparator) + filepath.Join(root, "sdk", "examples", "pyecho")
	return append(os.Environ(), "PYTHONPATH="+path, "PYTHONDONTWRITEBYTECODE=1")
}

// TestPythonUnit runs the plugin's Python unit tests (tests/).
func TestPythonUnit(t *testing.T) {
	cmd := exec.Command(plugintest.Python, "-m", "unittest", "discover", "-s", "tests", "-t", ".")
	cmd.Env = pythonEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python3 -m unittest: %v\n%s", err, out)
	}
}

// pyParser is the Python datagram parser behind a pipe (tests/parse_stdin.py).
type pyParser struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

func startPyParser(tb testing.TB) *pyParser {
	tb.Helper()
	cmd := exec.Command(plugintest.Python, "tests/parse_stdin.py")
	cmd.Env = pythonEnv()
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	p := &pyParser{cmd: cmd, in: in, out: bufio.NewScanner(out)}
	tb.Cleanup(func() {
		_ = in.Close()
		_ = cmd.Wait()
	})
	return p
}

func (p *pyParser) parse(b []byte) (string, error) {
	if _, err := fmt.Fprintf(p.in, "%x\n", b); err != nil {
		return "", err
	}
	if !p.out.Scan() {
		return "", fmt.Errorf("the Python parser exited: %v", p.out.Err())
	}
	return p.out.Text(), nil
}

// FuzzDatagramAgreesWithGo: the Python plugin's datagram parser accepts
// exactly what the Go echo plugin's does, with the same fields, so the two
// implementations of the wire format cannot drift apart. The seed corpus
// holds the Go parser's golden cases.
func FuzzDatagramAgreesWithGo(f *testing.F) {
	for _, s := range []string{
		"PING 7 hello", "PONG 0 ", "PING 7", "PING 18446744073709551615 x y", "PING 18446744073709551616 x",
		"PING", "PING ", "PING x", "PING -1 a", "ping 1 a", "PING  1", "PING +1 a", "PING 1 \xff", "PING 1 \xed\xa0\x80",
		"PING 00000000000000000001 a", "PING 1 " + strings.Repeat("a", 1024), "PING 1 " + strings.Repeat("a", 1025), "PING 1 héllo",
	} {
		f.Add([]byte(s))
	}
	py := startPyParser(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := py.parse(b)
		if err != nil {
			t.Fatal(err)
		}
		want := "ERR"
		if d, err := echostream.ParseDatagram(b); err == nil {
			want = fmt.Sprintf("OK %s %d %s", d.Kind, d.Seq, hex.EncodeToString([]byte(d.Payload)))
		}
		if got != want {
			t.Fatalf("datagram %q: Python parser says %q, Go parser %q", b, got, want)
		}
	})
}
