package sdk

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
)

// names returns the notification names of a postLog.
func (p postLog) names() []string {
	var out []string
	for _, line := range p {
		name, _, _ := strings.Cut(line, " ")
		out = append(out, name)
	}
	return out
}

func TestLifecycleEnd(t *testing.T) {
	tests := []struct {
		name  string
		setup func(l *Lifecycle)
		want  []string // what End posts
		data  string   // the data of End's last notification
	}{
		{"before Initialize", func(*Lifecycle) {}, []string{MediaStreamDidNotInitialize}, `{"reason":"Interrupted"}`},
		{"while initializing", func(l *Lifecycle) { _ = l.Initializing() }, []string{MediaStreamDidNotInitialize}, `{"reason":"Interrupted"}`},
		{"initialized", func(l *Lifecycle) { l.Initialized() }, []string{MediaStreamWillEnd, MediaStreamDidEnd}, `{}`},
		{"not initialized", func(l *Lifecycle) { l.NotInitialized("no port") }, []string{MediaStreamWillEnd, MediaStreamDidEnd}, `{"error":"no port"}`},
		{"starting", func(l *Lifecycle) { l.Initialized(); _ = l.Starting() }, []string{MediaStreamWillEnd, MediaStreamDidEnd}, `{}`},
		{"started", func(l *Lifecycle) { l.Initialized(); _ = l.Starting(); l.Started() }, []string{MediaStreamWillEnd, MediaStreamDidEnd}, `{}`},
		{"failed", func(l *Lifecycle) { l.Initialized(); _ = l.Starting(); l.Fail("start", "refused") }, []string{MediaStreamWillEnd, MediaStreamDidEnd}, `{"error":"refused"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var posted postLog
			var mu sync.Mutex
			l := NewLifecycle(&posted)
			tt.setup(&l)
			before := len(posted)
			var steps []string
			err := l.End(&mu, func(prev StreamState) func() {
				if mu.TryLock() {
					t.Error("teardown ran without the lock")
				}
				steps = append(steps, "teardown "+prev.String())
				return func() {
					if !mu.TryLock() {
						t.Error("release ran with the lock held")
					} else {
						mu.Unlock()
					}
					steps = append(steps, "release")
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			got := posted[before:]
			if !slices.Equal(got.names(), tt.want) || !strings.HasSuffix(got[len(got)-1], " "+tt.data) {
				t.Fatalf("End posted %q, want %v ending with data %s", got, tt.want, tt.data)
			}
			if len(steps) != 2 || !strings.HasPrefix(steps[0], "teardown ") || steps[1] != "release" {
				t.Fatalf("steps %q", steps)
			}
			if l.State() != StateEnded || !l.Closing() || l.Active() {
				t.Fatalf("after End: state %s closing %t active %t", l.State(), l.Closing(), l.Active())
			}
			// A second End does nothing.
			n := len(posted)
			if err := l.End(&mu, func(StreamState) func() { t.Error("second teardown"); return nil }); err != nil || len(posted) != n {
				t.Fatalf("second End: %v, posted %q", err, posted[n:])
			}
			// Nothing starts once End has begun.
			if l.Go(func(context.Context) { t.Error("ran") }) || l.Defer(func() { t.Error("ran") }) {
				t.Fatal("Go or Defer accepted after End")
			}
		})
	}
}

func TestLifecycleTransitions(t *testing.T) {
	var posted postLog
	l := NewLifecycle(&posted)
	if err := l.Starting(); !errors.Is(err, ErrIllegalState) || l.State() != StateNew {
		t.Fatalf("Starting before Initialize: %v, state %s", err, l.State())
	}
	if err := l.Check("Update", StateStarted); !errors.Is(err, ErrIllegalState) || !strings.Contains(err.Error(), "Update in state new") {
		t.Fatalf("Check: %v", err)
	}
	boom := errors.New("boom")
	if err := l.Initialize(func() error { return boom }); err != nil || l.State() != StateFailed {
		t.Fatalf("Initialize failing: %v, state %s", err, l.State())
	}
	if err := l.Initialize(func() error { t.Error("setup ran twice"); return nil }); !errors.Is(err, ErrIllegalState) {
		t.Fatalf("second Initialize: %v", err)
	}
	if !slices.Equal(posted, postLog{`MediaStreamDidNotInitialize {"reason":"boom"}`}) {
		t.Fatalf("posted %q", posted)
	}

	posted = nil
	l = NewLifecycle(&posted)
	if err := l.Initialize(func() error { return nil }); err != nil || !l.In(StateInitialized) {
		t.Fatalf("Initialize: %v, state %s", err, l.State())
	}
	if err := l.Starting(); err != nil || l.State() != StateStarting || l.Active() {
		t.Fatalf("Starting: %v, state %s", err, l.State())
	}
	l.Started()
	if !l.Active() || l.Closing() {
		t.Fatal("started stream not active")
	}
	// A transport that closes while the stream runs is a failure...
	if !l.TransportClosed("reading", "reset by peer") || l.State() != StateFailed {
		t.Fatalf("TransportClosed: state %s", l.State())
	}
	want := postLog{"MediaStreamDidInitialize null", "MediaStreamDidStart null", `MediaStreamDidFail {"context":"reading","reason":"reset by peer"}`}
	if !slices.Equal(posted, want) {
		t.Fatalf("posted %q, want %q", posted, want)
	}
	// ...but not once Deactivate came.
	l.Deactivate()
	if l.TransportClosed("reading", "closed") || len(posted) != len(want) {
		t.Fatalf("TransportClosed after Deactivate posted %q", posted)
	}

	// Start is refused after Deactivate.
	l = NewLifecycle(&posted)
	l.Initialized()
	l.Deactivate()
	if err := l.Starting(); !errors.Is(err, ErrIllegalState) {
		t.Fatalf("Starting after Deactivate: %v", err)
	}
	if got := StreamState(42).String(); got != "StreamState(42)" {
		t.Fatalf("unknown state %q", got)
	}
}

// TestLifecycleGoroutines checks End's order: cleanups after the
// goroutines' contexts are canceled, then the wait, then release, then
// MediaStreamDidEnd.
func TestLifecycleGoroutines(t *testing.T) {
	var posted postLog
	var mu sync.Mutex
	l := NewLifecycle(&posted)
	mu.Lock()
	l.Initialized()
	var steps []string
	var smu sync.Mutex
	step := func(s string) {
		smu.Lock()
		steps = append(steps, s)
		smu.Unlock()
	}
	blocked := make(chan struct{}) // closed by the cleanup: a socket closing
	started := make(chan struct{})
	l.Go(func(ctx context.Context) {
		close(started)
		<-ctx.Done()
		<-blocked
		mu.Lock() // the goroutine may take the stream's lock
		step("goroutine")
		mu.Unlock()
	})
	l.Defer(func() { step("cleanup 1") })
	l.Defer(func() { step("cleanup 2"); close(blocked) })
	mu.Unlock()
	<-started
	if err := l.End(&mu, func(StreamState) func() { return func() { step("release") } }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"cleanup 2", "cleanup 1", "goroutine", "release"}; !slices.Equal(steps, want) {
		t.Fatalf("steps %q, want %q", steps, want)
	}
	if got := posted.names(); !slices.Equal(got, []string{MediaStreamDidInitialize, MediaStreamWillEnd, MediaStreamDidEnd}) {
		t.Fatalf("posted %v", got)
	}
}
