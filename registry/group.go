package registry

import (
	"errors"
	"os"
	"os/exec"
	"sync"
	"time"
)

// waitDelay bounds how long the pipes of a plugin process are read after
// the process has exited. Its whole process group is killed by then, so
// they reach end of file at once, unless a process that left the group
// (setsid) holds them: they are closed after waitDelay, as exec.Cmd's
// WaitDelay does for the pipes it copies. go-plugin itself reads the pipes
// to their end before it waits for the process, so without this bound such
// a process would hold the plugin's start or stop for ever.
const waitDelay = time.Second

// procGroup is a started child process that leads a process group of its
// own (setProcAttr; Linux). It is killed as a group, and when it exits by
// itself whatever it left running in its group is killed before it is
// reaped: a plugin never leaves a child behind.
type procGroup struct {
	cmd *exec.Cmd

	mu   sync.Mutex
	gone bool // the group is dead or the leader reaped: its pid may name another process
}

// start starts the process from the launcher's thread.
func (g *procGroup) start(l *launcher) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return l.run(g.cmd.Start)
}

// kill SIGKILLs the process and its group; it does nothing once the
// process has been waited for.
func (g *procGroup) kill() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gone || g.cmd.Process == nil {
		return nil
	}
	if err := killGroup(g.cmd.Process); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}

// wait waits for the process to exit, kills what is left of its group and
// reaps it; the result is cmd.Wait's.
func (g *procGroup) wait() error {
	if awaitExit(g.cmd.Process.Pid) {
		// The leader is a zombie: its pid still names the group.
		g.mu.Lock()
		_ = killGroup(g.cmd.Process)
		g.gone = true
		g.mu.Unlock()
	}
	err := g.cmd.Wait()
	g.mu.Lock()
	g.gone = true
	g.mu.Unlock()
	return err
}

// pipeEnd is the read end of a pipe to a child process that records when
// its reader met the end (or an error).
type pipeEnd struct {
	f    *os.File
	once sync.Once
	eof  chan struct{}
}

// newPipe returns a pipe's read end and the write end for the child.
func newPipe() (*pipeEnd, *os.File, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	return &pipeEnd{f: r, eof: make(chan struct{})}, w, nil
}

func (p *pipeEnd) Read(b []byte) (int, error) {
	n, err := p.f.Read(b)
	if err != nil {
		p.once.Do(func() { close(p.eof) })
	}
	return n, err
}

// Close releases the read end; a Read in progress returns an error.
func (p *pipeEnd) Close() error { return p.f.Close() }
