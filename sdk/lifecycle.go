package sdk

import (
	"context"
	"slices"
	"strconv"
	"sync"
)

// ReasonInterrupted is the reason of the MediaStreamDidNotInitialize that
// End posts when it comes before initialization finished (reference §1.1).
const ReasonInterrupted = "Interrupted"

// StreamState is where a stream is in its life, as a Lifecycle tracks it.
type StreamState int

// Stream states, in the order a stream goes through them.
const (
	// StateNew: built by a factory, not initialized.
	StateNew StreamState = iota
	// StateInitializing: Initialize is under way (it may finish in the
	// background, as ICE gathering does).
	StateInitializing
	// StateInitialized: MediaStreamDidInitialize was posted.
	StateInitialized
	// StateStarting: Start is under way (connecting, ICE checks).
	StateStarting
	// StateStarted: MediaStreamDidStart was posted.
	StateStarted
	// StateFailed: initialization or the media failed.
	StateFailed
	// StateEnded: End was called.
	StateEnded
)

// String returns the state's name ("new", "initialized", …).
func (s StreamState) String() string {
	names := [...]string{"new", "initializing", "initialized", "starting", "started", "failed", "ended"}
	if s >= 0 && int(s) < len(names) {
		return names[s]
	}
	return "StreamState(" + strconv.Itoa(int(s)) + ")"
}

// Lifecycle is the part of a stream's life that is the same for every
// stream type (reference §1.1): its state, the outcome notifications of
// Initialize and Start, failures, Deactivate, and the notifications of End,
// which are
//
//   - before initialization finished: MediaStreamDidNotInitialize with
//     reason "Interrupted" (ReasonInterrupted), and nothing else;
//   - otherwise: MediaStreamWillEnd, the stream's teardown, then
//     MediaStreamDidEnd carrying the last failure reason, if any;
//   - a second End: nothing.
//
// It also owns the stream's goroutines (Go) and cleanups (Defer): End
// stops the goroutines and runs the cleanups before MediaStreamDidEnd, so
// nothing the stream started outlives it.
//
// A stream keeps a Lifecycle beside its own state and calls its methods
// where its own Initialize, Start, Deactivate and End make the
// corresponding step. A Lifecycle is not safe for concurrent use: guard it
// with the stream's lock, the one that guards the rest of its state, and
// call every method with it held, except End, which takes the lock itself.
// Post never blocks, so the notifications are posted with the lock held, in
// the order of the state changes.
type Lifecycle struct {
	notifier    Notifier
	state       StreamState
	deactivated bool
	failure     string
	running     []goroutine // started by Go, stopped by End
	cleanups    []func()    // registered by Defer, run by End
}

// goroutine is one goroutine started by Lifecycle.Go.
type goroutine struct {
	cancel context.CancelFunc
	done   <-chan struct{}
}

// NewLifecycle returns the lifecycle of a new stream (StateNew) posting to
// n, usually the stream's *Env.
func NewLifecycle(n Notifier) Lifecycle { return Lifecycle{notifier: n} }

// State returns the current state.
func (l *Lifecycle) State() StreamState { return l.state }

// In reports whether the state is one of states.
func (l *Lifecycle) In(states ...StreamState) bool { return slices.Contains(states, l.state) }

// Check returns an error wrapping ErrIllegalState, naming op and the state,
// unless the state is one of allowed.
func (l *Lifecycle) Check(op string, allowed ...StreamState) error {
	if l.In(allowed...) {
		return nil
	}
	return Errorf(ErrIllegalState, "%s in state %s", op, l.state)
}

// Initializing begins Initialize: from StateNew it moves to
// StateInitializing; in any other state it returns an error wrapping
// ErrIllegalState and changes nothing.
func (l *Lifecycle) Initializing() error {
	if err := l.Check("Initialize", StateNew); err != nil {
		return err
	}
	l.state = StateInitializing
	return nil
}

// Initialized ends initialization: StateInitialized, and
// MediaStreamDidInitialize is posted.
func (l *Lifecycle) Initialized() {
	l.state = StateInitialized
	l.notifier.Post(MediaStreamDidInitialize, nil)
}

// NotInitialized ends initialization on a failure: StateFailed, the reason
// is kept for MediaStreamDidEnd, and MediaStreamDidNotInitialize is posted
// with it.
func (l *Lifecycle) NotInitialized(reason string) {
	l.state, l.failure = StateFailed, reason
	l.notifier.Post(MediaStreamDidNotInitialize, DidNotInitializeData{Reason: reason})
}

// Initialize runs a stream's Initialize when it finishes at once: it
// begins as Initializing does (an error wrapping ErrIllegalState outside
// StateNew, returned without calling setup), runs setup, and ends with
// NotInitialized and setup's error's reason (ReasonOf) if setup fails,
// else with Initialized. It returns nil then: the outcome is the
// notification.
func (l *Lifecycle) Initialize(setup func() error) error {
	if err := l.Initializing(); err != nil {
		return err
	}
	if err := setup(); err != nil {
		l.NotInitialized(ReasonOf(err))
		return nil
	}
	l.Initialized()
	return nil
}

// Starting begins Start: from StateInitialized, before Deactivate, it
// moves to StateStarting; otherwise it returns an error wrapping
// ErrIllegalState and changes nothing.
func (l *Lifecycle) Starting() error {
	if err := l.Check("Start", StateInitialized); err != nil {
		return err
	}
	if l.deactivated {
		return Errorf(ErrIllegalState, "Start after Deactivate")
	}
	l.state = StateStarting
	return nil
}

// Started ends Start: StateStarted, and MediaStreamDidStart is posted.
func (l *Lifecycle) Started() {
	l.state = StateStarted
	l.notifier.Post(MediaStreamDidStart, nil)
}

// Fail records a failure of the media: the reason is kept for
// MediaStreamDidEnd, the state becomes StateFailed (unless End came first)
// and MediaStreamDidFail is posted with where it failed (DidFailData's
// Context: "start", "reading", …) and the reason.
func (l *Lifecycle) Fail(where, reason string) {
	if l.state != StateEnded {
		l.state = StateFailed
	}
	l.failure = reason
	l.notifier.Post(MediaStreamDidFail, DidFailData{Context: where, Reason: reason})
}

// TransportClosed reports that the stream's transport closed or broke
// while the stream may be running: unless Deactivate or End came first (the
// stream is closing it), that is a failure, recorded as Fail(where,
// reason) does. It reports whether it failed the stream.
func (l *Lifecycle) TransportClosed(where, reason string) bool {
	if l.Closing() {
		return false
	}
	l.Fail(where, reason)
	return true
}

// Deactivate records the first phase of teardown (sdk.Stream.Deactivate):
// from now on the transport closing is normal, and Start is refused.
func (l *Lifecycle) Deactivate() { l.deactivated = true }

// Closing reports whether Deactivate or End was called: a transport that
// breaks now is being closed, not failing.
func (l *Lifecycle) Closing() bool { return l.deactivated || l.state == StateEnded }

// Active reports whether media may flow: the stream has started and is not
// closing.
func (l *Lifecycle) Active() bool { return l.state == StateStarted && !l.Closing() }

// Go runs f on a goroutine that the stream owns through its Lifecycle:
// End cancels f's context and waits for f to return. Call it with the
// stream's lock held; f may take the lock. Once End has begun, Go starts
// nothing and returns false. A goroutine that returns early is forgotten
// only by End: Go is for the few goroutines of a stream's life, not for
// one per packet.
func (l *Lifecycle) Go(f func(ctx context.Context)) bool {
	if l.state == StateEnded {
		return false
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	l.running = append(l.running, goroutine{cancel: cancel, done: done})
	go func() {
		defer close(done)
		f(ctx)
	}()
	return true
}

// Defer registers f to run once End has begun, without the stream's lock:
// right after the contexts of the goroutines started by Go are canceled and
// before End waits for them, since closing a socket is how a goroutine
// blocked reading it is stopped. Cleanups run in the reverse order of
// registration. Call it with the lock held; once End has begun, Defer runs
// nothing and returns false.
func (l *Lifecycle) Defer(f func()) bool {
	if l.state == StateEnded {
		return false
	}
	l.cleanups = append(l.cleanups, f)
	return true
}

// End runs End's steps (see Lifecycle) for a stream whose state mu guards;
// mu must not be held by the caller. With mu held it moves to StateEnded,
// posts MediaStreamDidNotInitialize "Interrupted" or MediaStreamWillEnd,
// and calls teardown (which may be nil) with the state End found, so the
// stream can detach what it must close. Then, without mu, it cancels the
// goroutines started by Go, runs the cleanups registered with Defer, waits
// for the goroutines, and calls the function teardown returned (which may
// be nil): close sockets, release devices. Last, with mu held again, it
// posts MediaStreamDidEnd, unless the stream was interrupted. A second End
// returns at once. End returns nil: a stream's End does not fail.
func (l *Lifecycle) End(mu sync.Locker, teardown func(prev StreamState) (release func())) error {
	mu.Lock()
	prev := l.state
	if prev == StateEnded {
		mu.Unlock()
		return nil
	}
	l.state = StateEnded
	interrupted := prev == StateNew || prev == StateInitializing
	if interrupted {
		l.notifier.Post(MediaStreamDidNotInitialize, DidNotInitializeData{Reason: ReasonInterrupted})
	} else {
		l.notifier.Post(MediaStreamWillEnd, nil)
	}
	var release func()
	if teardown != nil {
		release = teardown(prev)
	}
	running, cleanups := l.running, l.cleanups
	l.running, l.cleanups = nil, nil
	mu.Unlock()
	for _, g := range running {
		g.cancel()
	}
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	for _, g := range running {
		<-g.done
	}
	if release != nil {
		release()
	}
	if interrupted {
		return nil
	}
	mu.Lock()
	defer mu.Unlock()
	l.notifier.Post(MediaStreamDidEnd, DidEndData{Error: l.failure})
	return nil
}
