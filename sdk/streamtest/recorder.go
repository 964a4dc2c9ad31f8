package streamtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sipstreams/sipstreams/sdk"
)

// TB is the part of testing.TB the Recorder uses; *testing.T and
// *testing.B satisfy it.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// Recorder keeps notifications in the order they arrive and lets a test
// wait, with a deadline, until the one it expects has arrived. It never
// sleeps: a wait wakes on each notification recorded and fails the test
// when the deadline passes or the source of notifications breaks, with
// what was recorded in the failure message.
//
// A Recorder is filled either by Record, from a provider's notification
// stream, or directly: it is an sdk.Notifier, so a test that drives a
// stream without a provider gives it to the stream as its Env's Notifier.
// Its methods are safe for concurrent use.
type Recorder struct {
	timeout time.Duration

	mu      sync.Mutex
	notes   []sdk.Notification
	labels  map[uint64]string
	changed chan struct{} // closed and replaced on every change
	err     error         // why the source stopped, if it did
}

// NewRecorder returns an empty Recorder. Of the options, only WithTimeout
// applies: it bounds each wait (DefaultTimeout by default).
func NewRecorder(opts ...Option) *Recorder {
	return &Recorder{timeout: newConfig(opts).timeout, labels: map[uint64]string{}, changed: make(chan struct{})}
}

// Record subscribes to p's notifications and records them, in a goroutine
// that stops in t's cleanup; the subscription itself is bounded by the
// timeout. If the notification stream breaks before the cleanup, waits
// fail at once with its error.
func Record(t TB, p sdk.Provider, opts ...Option) *Recorder {
	t.Helper()
	r := NewRecorder(opts...)
	ctx, cancel := context.WithCancel(context.Background())
	subscribed := make(chan error, 1)
	var ns sdk.NotificationStream
	go func() {
		var err error
		ns, err = p.Notifications(ctx)
		subscribed <- err
	}()
	timer := time.NewTimer(r.timeout)
	defer timer.Stop()
	select {
	case err := <-subscribed:
		if err != nil {
			cancel()
			t.Fatalf("Notifications: %v", err)
		}
	case <-timer.C:
		cancel()
		t.Fatalf("Notifications did not return within %v", r.timeout)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			n, err := ns.Recv()
			if err != nil {
				if ctx.Err() == nil {
					r.Stop(err)
				}
				return
			}
			r.Add(*n)
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return r
}

// Post records a notification posted directly to the Recorder, with Handle
// 0 and data marshalled to JSON as the SDK does. Data that does not
// marshal is recorded as a JSON string saying so.
func (r *Recorder) Post(name string, data any) {
	raw, err := sdk.MarshalJSONValue(data)
	if err != nil {
		raw = []byte(fmt.Sprintf("%q", "unmarshalable data: "+err.Error()))
	}
	r.Add(sdk.Notification{Name: name, Time: time.Now(), Data: raw})
}

// Add records n.
func (r *Recorder) Add(n sdk.Notification) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notes = append(r.notes, n)
	r.changedLocked()
}

// Stop tells the Recorder that its source broke with err (nil: it ended):
// from now on a wait that is not satisfied yet fails at once.
func (r *Recorder) Stop(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		err = errors.New("notification stream ended")
	}
	r.err = err
	r.changedLocked()
}

func (r *Recorder) changedLocked() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// Label names handle h in failure messages ("A (handle 3, type echo)").
func (r *Recorder) Label(h uint64, label string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.labels[h] = label
}

// All returns every notification recorded so far, of every handle.
func (r *Recorder) All() []sdk.Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.notes)
}

// Of returns handle h's notifications recorded so far, of any name, or of
// names when some are given.
func (r *Recorder) Of(h uint64, names ...string) []sdk.Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []sdk.Notification
	for _, n := range r.notes {
		if n.Handle == h && (len(names) == 0 || slices.Contains(names, n.Name)) {
			out = append(out, n)
		}
	}
	return out
}

// Names returns the names of handle h's notifications recorded so far.
func (r *Recorder) Names(h uint64) []string {
	var out []string
	for _, n := range r.Of(h) {
		out = append(out, n.Name)
	}
	return out
}

// Wait waits until a recorded notification satisfies match and returns the
// first one that does (it may have arrived before the call). what
// describes the notification in the failure message. match runs with the
// Recorder locked, on every recorded notification each time one arrives:
// it must not call the Recorder, and may see a notification more than
// once.
func (r *Recorder) Wait(t TB, what string, match func(sdk.Notification) bool) *sdk.Notification {
	t.Helper()
	var found sdk.Notification
	r.waitUntil(t, what, nil, func(notes []sdk.Notification) bool {
		i := slices.IndexFunc(notes, match)
		if i >= 0 {
			found = notes[i]
		}
		return i >= 0
	})
	return &found
}

// WaitFor waits until handle h has posted one of names and returns the
// first such notification.
func (r *Recorder) WaitFor(t TB, h uint64, names ...string) *sdk.Notification {
	t.Helper()
	return &r.WaitCount(t, h, 1, names...)[0]
}

// WaitCount waits until handle h has posted n notifications named one of
// names and returns all such notifications recorded by then (n or more).
func (r *Recorder) WaitCount(t TB, h uint64, n int, names ...string) []sdk.Notification {
	t.Helper()
	var got []sdk.Notification
	what := fmt.Sprintf("%d of %s", n, strings.Join(names, " or "))
	if n == 1 {
		what = strings.Join(names, " or ")
	}
	r.waitUntil(t, what, &h, func(notes []sdk.Notification) bool {
		got = got[:0]
		for _, x := range notes {
			if x.Handle == h && slices.Contains(names, x.Name) {
				got = append(got, x)
			}
		}
		return len(got) >= n
	})
	return got
}

// waitUntil waits until done accepts the notes recorded so far. It fails t
// when the timeout passes or the source breaks first, dumping handle *h's
// notifications (every handle's when h is nil).
func (r *Recorder) waitUntil(t TB, what string, h *uint64, done func([]sdk.Notification) bool) {
	t.Helper()
	timer := time.NewTimer(r.timeout)
	defer timer.Stop()
	for {
		r.mu.Lock()
		ok, err, changed := done(r.notes), r.err, r.changed
		r.mu.Unlock()
		if ok {
			return
		}
		if err != nil {
			t.Fatalf("waiting for %s: the notification stream broke: %v\n%s", what, err, r.dump(h))
		}
		select {
		case <-changed:
		case <-timer.C:
			t.Fatalf("expected %s within %v, not posted\n%s", what, r.timeout, r.dump(h))
		}
	}
}

// Dump renders handle h's notifications for a failure message.
func (r *Recorder) Dump(h uint64) string { return r.dump(&h) }

func (r *Recorder) dump(h *uint64) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	switch {
	case h == nil:
		b.WriteString("notifications:")
	case r.labels[*h] != "":
		fmt.Fprintf(&b, "notifications of %s:", r.labels[*h])
	default:
		fmt.Fprintf(&b, "notifications of handle %d:", *h)
	}
	count := 0
	for _, n := range r.notes {
		if h != nil && n.Handle != *h {
			continue
		}
		count++
		data := strings.TrimSpace(string(n.Data))
		if data == "" {
			data = "{}"
		}
		if h == nil {
			fmt.Fprintf(&b, "\n\t#%d [%d] %s %s", n.Seq, n.Handle, n.Name, data)
		} else {
			fmt.Fprintf(&b, "\n\t#%d %s %s", n.Seq, n.Name, data)
		}
	}
	if count == 0 {
		b.WriteString(" none")
	}
	if r.err != nil {
		fmt.Fprintf(&b, "\n\t(notification stream broke: %v)", r.err)
	}
	return b.String()
}

// Cursor reads a Recorder's notifications in order, as a test that
// consumes them one by one does; see Recorder.Cursor.
type Cursor struct {
	r   *Recorder
	pos int // notes[pos:] not consumed yet
}

// Cursor returns a Cursor at the first notification recorded, whichever
// handle posted it.
func (r *Recorder) Cursor() *Cursor { return &Cursor{r: r} }

// Next waits for the next notification after the cursor, of any handle,
// and moves past it.
func (c *Cursor) Next(t TB) *sdk.Notification {
	t.Helper()
	return c.NextMatch(t, "a notification", func(sdk.Notification) bool { return true })
}

// NextFor waits for the next notification of handle h named one of names,
// and moves past it and everything before it.
func (c *Cursor) NextFor(t TB, h uint64, names ...string) *sdk.Notification {
	t.Helper()
	return c.NextMatch(t, strings.Join(names, " or "), func(n sdk.Notification) bool {
		return n.Handle == h && slices.Contains(names, n.Name)
	})
}

// NextMatch waits for the next notification after the cursor that match
// accepts, and moves past it and everything before it. match is called as
// Recorder.Wait calls it.
func (c *Cursor) NextMatch(t TB, what string, match func(sdk.Notification) bool) *sdk.Notification {
	t.Helper()
	var found sdk.Notification
	c.r.waitUntil(t, what, nil, func(notes []sdk.Notification) bool {
		for i := c.pos; i < len(notes); i++ {
			if match(notes[i]) {
				found, c.pos = notes[i], i+1
				return true
			}
		}
		return false
	})
	return &found
}

// Until waits for the next notification of handle h named name and returns
// the notifications before it (of every handle), moving past them all.
func (c *Cursor) Until(t TB, h uint64, name string) []sdk.Notification {
	t.Helper()
	start := c.pos
	c.NextFor(t, h, name)
	notes := c.r.All()
	return notes[start : c.pos-1]
}
