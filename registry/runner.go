package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
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

	mu     sync.Mutex
	closed bool
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

// run runs fn on the launcher's thread; after close it returns ErrClosed
// (a Discover still running when Close ends).
func (l *launcher) run(fn func() error) error {
	errc := make(chan error, 1)
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.jobs <- func() { errc <- fn() }
	l.mu.Unlock()
	return <-errc
}

func (l *launcher) close() {
	l.mu.Lock()
	l.closed = true
	close(l.jobs)
	l.mu.Unlock()
	<-l.done
}

// procRunner is a go-plugin runner.Runner for a local child process in a
// process group of its own. It reaps the process itself, as soon as it
// exits: the group is killed, the pipes are read to their end (or given up
// after waitDelay) and exited is closed. go-plugin reads the pipes to their
// end before it calls Wait, so neither a hung plugin nor a child holding
// its stdout or stderr can hold the host.
type procRunner struct {
	group  procGroup
	launch *launcher
	stdout *pipeEnd
	stderr *pipeEnd
	// The pipes' write ends, closed in the host once the child has them.
	childOut, childErr *os.File
	pid                int
	tail               tailBuffer // the end of the plugin's stderr
	// onStart, when set, is called once the process runs, from Start.
	onStart func()

	waitErr error
	exited  chan struct{}
}

var _ runner.Runner = (*procRunner)(nil)

func newProcRunner(cmd *exec.Cmd, l *launcher) (*procRunner, error) {
	stdout, childOut, err := newPipe()
	if err != nil {
		return nil, err
	}
	stderr, childErr, err := newPipe()
	if err != nil {
		stdout.Close()
		childOut.Close()
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = childOut, childErr
	setProcAttr(cmd)
	return &procRunner{group: procGroup{cmd: cmd}, launch: l, stdout: stdout, stderr: stderr,
		childOut: childOut, childErr: childErr, exited: make(chan struct{})}, nil
}

func (r *procRunner) Start(context.Context) error {
	err := r.group.start(r.launch)
	r.childOut.Close()
	r.childErr.Close()
	if err != nil {
		r.stdout.Close()
		r.stderr.Close()
		r.waitErr = err
		close(r.exited)
		return err
	}
	r.pid = r.group.cmd.Process.Pid
	go r.reap()
	if r.onStart != nil {
		r.onStart()
	}
	return nil
}

// reap waits for the process, kills its group, lets the pipes drain for at
// most waitDelay and closes exited. It ends with the process, which Kill
// ends.
func (r *procRunner) reap() {
	err := r.group.wait()
	ctx, cancel := context.WithTimeout(context.Background(), waitDelay)
	defer cancel()
	for _, p := range []*pipeEnd{r.stdout, r.stderr} {
		select {
		case <-p.eof:
		case <-ctx.Done():
		}
	}
	r.stdout.Close()
	r.stderr.Close()
	r.waitErr = err
	close(r.exited)
}

// Wait waits until the process has been reaped.
func (r *procRunner) Wait(context.Context) error {
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

// Kill SIGKILLs the process with its whole process group.
func (r *procRunner) Kill(context.Context) error {
	return r.group.kill()
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
func (r *procRunner) Name() string { return r.group.cmd.Path }
func (r *procRunner) ID() string   { return fmt.Sprint(r.pid) }

func (r *procRunner) Diagnose(context.Context) string {
	return "the binary wrote something other than the go-plugin handshake on stdout (only sdk.Serve may write there), or is not a sipstreams plugin"
}

func (r *procRunner) PluginToHost(n, a string) (string, string, error) { return n, a, nil }
func (r *procRunner) HostToPlugin(n, a string) (string, string, error) { return n, a, nil }

// runnerFunc adapts newProcRunner to go-plugin's ClientConfig.RunnerFunc for
// the binary at path and hands the runner back through got. go-plugin passes
// a command spec holding only the environment it prepared (the host's own
// and its handshake's); env (WithEnv) goes on top of it, a variable named
// twice taking its last value.
func runnerFunc(path string, env []string, l *launcher, got func(*procRunner)) func(hclog.Logger, *exec.Cmd, string) (runner.Runner, error) {
	return func(_ hclog.Logger, spec *exec.Cmd, _ string) (runner.Runner, error) {
		cmd := exec.Command(path)
		cmd.Env = append(slices.Clip(spec.Env), env...)
		r, err := newProcRunner(cmd, l)
		if err != nil {
			return nil, err
		}
		got(r)
		return r, nil
	}
}
