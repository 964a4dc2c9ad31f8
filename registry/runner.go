package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin/runner"
)

// launcher starts plugin processes from one goroutine locked to its OS
// thread for the registry's lifetime. On Linux a child's Pdeathsig fires when
// the thread that forked it exits (golang/go#27505), so forking from a thread
// that lives as long as the registry makes Pdeathsig mean "the host died".
type launcher struct {
	jobs chan func()
	done chan struct{}
}

func newLauncher() *launcher {
	l := &launcher{jobs: make(chan func()), done: make(chan struct{})}
	go func() {
		runtime.LockOSThread()
		// Never unlocked: the thread exits with the goroutine, after the
		// registry has stopped every plugin.
		defer close(l.done)
		for job := range l.jobs {
			job()
		}
	}()
	return l
}

func (l *launcher) run(fn func() error) error {
	errc := make(chan error, 1)
	l.jobs <- func() { errc <- fn() }
	return <-errc
}

func (l *launcher) close() {
	close(l.jobs)
	<-l.done
}

// procRunner is a go-plugin runner.Runner for a local child process that
// records how the process ended and signals it on exited.
type procRunner struct {
	cmd    *exec.Cmd
	launch *launcher
	stdout io.ReadCloser
	stderr io.ReadCloser
	pid    int
	tail   tailBuffer // the end of the plugin's stderr

	waitOnce sync.Once
	waitErr  error
	exited   chan struct{}
}

var _ runner.Runner = (*procRunner)(nil)

func newProcRunner(cmd *exec.Cmd, l *launcher) (*procRunner, error) {
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	setProcAttr(cmd)
	return &procRunner{cmd: cmd, launch: l, stdout: stdout, stderr: stderr, exited: make(chan struct{})}, nil
}

func (r *procRunner) Start(context.Context) error {
	if err := r.launch.run(r.cmd.Start); err != nil {
		return err
	}
	r.pid = r.cmd.Process.Pid
	return nil
}

// Wait waits for the process; go-plugin calls it once, from its own goroutine.
func (r *procRunner) Wait(context.Context) error {
	r.waitOnce.Do(func() {
		r.waitErr = r.cmd.Wait()
		close(r.exited)
	})
	<-r.exited
	return r.waitErr
}

// exitReason describes how the process ended; call after exited is closed.
func (r *procRunner) exitReason() string {
	if r.waitErr != nil {
		return r.waitErr.Error()
	}
	return "exited with status 0"
}

func (r *procRunner) Kill(context.Context) error {
	if r.cmd.Process == nil {
		return nil
	}
	if err := r.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}

func (r *procRunner) Stdout() io.ReadCloser { return r.stdout }
func (r *procRunner) Stderr() io.ReadCloser {
	return struct {
		io.Reader
		io.Closer
	}{io.TeeReader(r.stderr, &r.tail), r.stderr}
}

// hasExited reports whether the process has been waited for.
func (r *procRunner) hasExited() bool {
	select {
	case <-r.exited:
		return true
	default:
		return false
	}
}

// tailBuffer keeps the last bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

const tailMax = 2048

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > tailMax {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-tailMax:]...)
	}
	return len(p), nil
}

// lastLine returns the last non-empty line, with hclog JSON reduced to its message.
func (t *tailBuffer) lastLine() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := strings.Split(strings.TrimSpace(string(t.buf)), "\n")
	line := strings.TrimSpace(lines[len(lines)-1])
	var entry struct {
		Message string `json:"@message"`
	}
	if json.Unmarshal([]byte(line), &entry) == nil && entry.Message != "" {
		line = entry.Message
	}
	return line
}
func (r *procRunner) Name() string { return r.cmd.Path }
func (r *procRunner) ID() string   { return fmt.Sprint(r.pid) }

func (r *procRunner) Diagnose(context.Context) string {
	return "the binary wrote something other than the go-plugin handshake on stdout (only sdk.Serve may write there), or is not a sipstreams plugin"
}

func (r *procRunner) PluginToHost(n, a string) (string, string, error) { return n, a, nil }
func (r *procRunner) HostToPlugin(n, a string) (string, string, error) { return n, a, nil }

// runnerFunc adapts newProcRunner to go-plugin's ClientConfig.RunnerFunc for
// the binary at path and hands the runner back through got. go-plugin passes
// a command spec holding only the environment it prepared.
func runnerFunc(path string, l *launcher, got func(*procRunner)) func(hclog.Logger, *exec.Cmd, string) (runner.Runner, error) {
	return func(_ hclog.Logger, spec *exec.Cmd, _ string) (runner.Runner, error) {
		cmd := exec.Command(path)
		cmd.Env = spec.Env
		r, err := newProcRunner(cmd, l)
		if err != nil {
			return nil, err
		}
		got(r)
		return r, nil
	}
}
