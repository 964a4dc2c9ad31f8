package baresiptest

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
)

// ansi matches the terminal colour escapes baresip wraps warnings in.
var ansi = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// output collects baresip's standard output and error: it copies the
// bytes to a log file and splits them into lines (at "\n" or "\r":
// baresip redraws its call status line with "\r") without colour
// escapes, for waiters.
type output struct {
	file io.Writer

	mu      sync.Mutex
	lines   []string
	partial []byte
	changed chan struct{} // closed and replaced on every new line or on close
	closed  bool
}

func newOutput(file io.Writer) *output {
	return &output{file: file, changed: make(chan struct{})}
}

// Write implements io.Writer for exec.Cmd's Stdout and Stderr.
func (o *output) Write(b []byte) (int, error) {
	if _, err := o.file.Write(b); err != nil {
		return 0, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	added := false
	for _, c := range b {
		if c != '\n' && c != '\r' {
			o.partial = append(o.partial, c)
			continue
		}
		if len(o.partial) > 0 {
			o.lines = append(o.lines, ansi.ReplaceAllString(string(o.partial), ""))
			o.partial = o.partial[:0]
			added = true
		}
	}
	if added {
		o.notify()
	}
	return len(b), nil
}

// close ends the output: a last unterminated line becomes a line, and
// waiters stop waiting.
func (o *output) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.partial) > 0 {
		o.lines = append(o.lines, ansi.ReplaceAllString(string(o.partial), ""))
		o.partial = nil
	}
	o.closed = true
	o.notify()
}

func (o *output) notify() {
	close(o.changed)
	o.changed = make(chan struct{})
}

// text returns every line so far, each ended by "\n".
func (o *output) text() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var b strings.Builder
	for _, l := range o.lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

// wait waits until n lines match re and returns them. It fails with
// ErrExited when the output ends first, or with ctx's error.
func (o *output) wait(ctx context.Context, re *regexp.Regexp, n int) ([]string, error) {
	seen := 0
	var found []string
	for {
		o.mu.Lock()
		for ; seen < len(o.lines); seen++ {
			if re.MatchString(o.lines[seen]) {
				found = append(found, o.lines[seen])
			}
		}
		closed, changed := o.closed, o.changed
		o.mu.Unlock()
		if len(found) >= n {
			return found[:n], nil
		}
		if closed {
			return found, fmt.Errorf("waiting for %d lines matching %q, saw %d: %w", n, re, len(found), ErrExited)
		}
		select {
		case <-ctx.Done():
			return found, fmt.Errorf("waiting for %d lines matching %q, saw %d: %w", n, re, len(found), context.Cause(ctx))
		case <-changed:
		}
	}
}

// find returns the first line so far that matches re.
func (o *output) find(re *regexp.Regexp) (string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, l := range o.lines {
		if re.MatchString(l) {
			return l, true
		}
	}
	return "", false
}
