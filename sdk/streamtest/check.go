package streamtest

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
)

// Report is what CheckBinary found: whether the plugin failed the suite and
// the suite's lines in order: each case's failures ("FAIL case: ..."), log
// lines ("case: ...") and, once a case has passed, "PASS case".
type Report struct {
	Failed bool
	Lines  []string
}

// Passed returns the names of the cases that passed ("suite/manifest",
// "suite/echo/lifecycle"), in the order they ended.
func (r *Report) Passed() []string {
	var out []string
	for _, l := range r.Lines {
		if name, ok := strings.CutPrefix(l, "PASS "); ok {
			out = append(out, name)
		}
	}
	return out
}

// Failures returns the failure lines.
func (r *Report) Failures() []string {
	var out []string
	for _, l := range r.Lines {
		if strings.HasPrefix(l, "FAIL ") {
			out = append(out, l)
		}
	}
	return out
}

// String returns the lines, one per line, and PASS or FAIL last.
func (r *Report) String() string {
	var b strings.Builder
	for _, l := range r.Lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	if r.Failed {
		b.WriteString("FAIL\n")
	} else {
		b.WriteString("PASS\n")
	}
	return b.String()
}

// CheckBinary runs the suite against the plugin binary at path as
// RunBinary does, outside `go test`: for a vendor whose plugin is not
// written in Go, and for `sipstreams plugins check`. It returns the report
// instead of failing a test. Each wait and call is bounded by the timeout
// (WithTimeout), so it returns even for a plugin that hangs.
func CheckBinary(path string, opts ...Option) *Report {
	rec := record(func(r runner) { runBinary(r, path, opts) })
	return &Report{Failed: rec.Failed(), Lines: rec.out.snapshot()}
}

// recorder is a runner that records failures instead of failing the test,
// so CheckBinary can report on a plugin, and the package's tests can check
// that the suite fails a broken one.
type recorder struct {
	name   string
	parent *recorder
	out    *recording

	mu       sync.Mutex
	failed   bool
	cleanups []func()
}

type recording struct {
	mu    sync.Mutex
	lines []string
}

func (o *recording) add(line string) {
	o.mu.Lock()
	o.lines = append(o.lines, line)
	o.mu.Unlock()
}

// record runs fn as the root case of a fresh recorder and returns it once
// fn and its cleanups are done.
func record(fn func(runner)) *recorder {
	r := &recorder{name: "suite", out: &recording{}}
	r.exec(fn)
	return r
}

func (r *recorder) Helper() {}

func (r *recorder) Logf(format string, args ...any) {
	r.out.add(r.name + ": " + fmt.Sprintf(format, args...))
}

func (r *recorder) Errorf(format string, args ...any) {
	for x := r; x != nil; x = x.parent {
		x.mu.Lock()
		x.failed = true
		x.mu.Unlock()
	}
	r.out.add("FAIL " + r.name + ": " + fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Cleanup(fn func()) {
	r.mu.Lock()
	r.cleanups = append(r.cleanups, fn)
	r.mu.Unlock()
}

func (r *recorder) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

func (r *recorder) run(name string, fn func(runner)) bool {
	child := &recorder{name: r.name + "/" + name, parent: r, out: r.out}
	child.exec(fn)
	if child.Failed() {
		return false
	}
	r.out.add("PASS " + child.name)
	return true
}

// exec runs fn in its own goroutine, so Fatalf can end it, then the
// cleanups in reverse order, each in its own goroutine for the same reason.
func (r *recorder) exec(fn func(runner)) {
	inGoroutine(func() { fn(r) })
	r.mu.Lock()
	cleanups := r.cleanups
	r.cleanups = nil
	r.mu.Unlock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		inGoroutine(cleanups[i])
	}
}

func inGoroutine(fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	<-done
}

// has reports whether a recorded line (failure or log) contains s.
func (r *recorder) has(s string) bool {
	r.out.mu.Lock()
	defer r.out.mu.Unlock()
	for _, l := range r.out.lines {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

func (o *recording) snapshot() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.lines...)
}
