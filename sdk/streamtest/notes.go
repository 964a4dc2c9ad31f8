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

// isGeneric reports whether name is one of the notifications every stream
// posts. Sequences are checked on these only, so a type may post its own
// notifications in between.
func isGeneric(name string) bool {
	switch name {
	case sdk.MediaStreamDidInitialize, sdk.MediaStreamDidNotInitialize, sdk.MediaStreamDidStart,
		sdk.MediaStreamDidFail, sdk.MediaStreamWillEnd, sdk.MediaStreamDidEnd:
		return true
	}
	return false
}

// notes reads the provider's notification stream in one goroutine it owns
// and keeps a log per stream handle. The goroutine stops in the cleanup of
// the tb that started it.
type notes struct {
	timeout time.Duration

	mu      sync.Mutex
	logs    map[uint64][]sdk.Notification
	labels  map[uint64]string
	changed chan struct{} // closed and replaced on every change
	err     error         // why the stream stopped, if it stopped early
}

func startNotes(t tb, prov sdk.Provider, timeout time.Duration) *notes {
	t.Helper()
	nl := &notes{
		timeout: timeout,
		logs:    map[uint64][]sdk.Notification{},
		labels:  map[uint64]string{},
		changed: make(chan struct{}),
	}
	ctx, cancel := context.WithCancel(context.Background())
	subscribed := make(chan error, 1)
	var ns sdk.NotificationStream
	go func() {
		var err error
		ns, err = prov.Notifications(ctx)
		subscribed <- err
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err := <-subscribed:
		if err != nil {
			cancel()
			t.Fatalf("Notifications: %v", err)
		}
	case <-timer.C:
		cancel()
		t.Fatalf("Notifications did not return within %v", timeout)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			n, err := ns.Recv()
			if err != nil {
				if ctx.Err() == nil {
					nl.stop(err)
				}
				return
			}
			nl.add(n)
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return nl
}

func (nl *notes) add(n *sdk.Notification) {
	nl.mu.Lock()
	defer nl.mu.Unlock()
	nl.logs[n.Handle] = append(nl.logs[n.Handle], *n)
	close(nl.changed)
	nl.changed = make(chan struct{})
}

func (nl *notes) stop(err error) {
	nl.mu.Lock()
	defer nl.mu.Unlock()
	if err == nil {
		err = errors.New("notification stream ended")
	}
	nl.err = err
	close(nl.changed)
	nl.changed = make(chan struct{})
}

// label names handle h in failure messages ("A (handle 3, type echo)").
func (nl *notes) label(h uint64, label string) {
	nl.mu.Lock()
	nl.labels[h] = label
	nl.mu.Unlock()
}

// log returns a copy of handle h's notifications.
func (nl *notes) log(h uint64) []sdk.Notification {
	nl.mu.Lock()
	defer nl.mu.Unlock()
	return slices.Clone(nl.logs[h])
}

// names returns the generic notification names of handle h, in order.
func (nl *notes) names(h uint64) []string {
	var out []string
	for _, n := range nl.log(h) {
		if isGeneric(n.Name) {
			out = append(out, n.Name)
		}
	}
	return out
}

// dump renders handle h's full log for a failure message.
func (nl *notes) dump(h uint64) string {
	nl.mu.Lock()
	defer nl.mu.Unlock()
	var b strings.Builder
	name := nl.labels[h]
	if name == "" {
		name = fmt.Sprintf("handle %d", h)
	}
	fmt.Fprintf(&b, "notifications of %s:", name)
	if len(nl.logs[h]) == 0 {
		b.WriteString(" none")
	}
	for _, n := range nl.logs[h] {
		data := strings.TrimSpace(string(n.Data))
		if data == "" {
			data = "{}"
		}
		fmt.Fprintf(&b, "\n\t#%d %s %s", n.Seq, n.Name, data)
	}
	if nl.err != nil {
		fmt.Fprintf(&b, "\n\t(notification stream broke: %v)", nl.err)
	}
	return b.String()
}

// waitFor waits until handle h has posted name and returns that
// notification (the first one of that name).
func (nl *notes) waitFor(t tb, h uint64, name string) sdk.Notification {
	t.Helper()
	return nl.waitAny(t, h, name)
}

// waitAny waits until handle h has posted one of names and returns the
// first such notification. It fails the case when the timeout passes or the
// notification stream breaks.
func (nl *notes) waitAny(t tb, h uint64, names ...string) sdk.Notification {
	t.Helper()
	timer := time.NewTimer(nl.timeout)
	defer timer.Stop()
	for {
		nl.mu.Lock()
		for _, n := range nl.logs[h] {
			if slices.Contains(names, n.Name) {
				nl.mu.Unlock()
				return n
			}
		}
		err, changed := nl.err, nl.changed
		nl.mu.Unlock()
		if err != nil {
			t.Fatalf("waiting for %s: the notification stream broke: %v\n%s", strings.Join(names, " or "), err, nl.dump(h))
		}
		select {
		case <-changed:
		case <-timer.C:
			t.Fatalf("expected %s within %v, not posted\n%s", strings.Join(names, " or "), nl.timeout, nl.dump(h))
		}
	}
}

// assertSequence checks that handle h's generic notifications are exactly
// want, in order.
func (nl *notes) assertSequence(t tb, h uint64, want []string) {
	t.Helper()
	if got := nl.names(h); !slices.Equal(got, want) {
		t.Errorf("generic notification sequence:\n\twant %v\n\tgot  %v\n%s", want, got, nl.dump(h))
	}
}

// assertNo checks that handle h has not posted name.
func (nl *notes) assertNo(t tb, h uint64, name string) {
	t.Helper()
	if slices.Contains(nl.names(h), name) {
		t.Errorf("unexpected %s\n%s", name, nl.dump(h))
	}
}
