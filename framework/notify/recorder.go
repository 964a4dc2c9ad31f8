package notify

import (
	"context"
	"fmt"
	"sync"
)

// Recorder is an [Observer] that records every notification it receives. It
// is safe for concurrent use and its zero value is ready to use. Tests use it
// to assert notification sequences:
//
//	var rec notify.Recorder
//	defer center.Subscribe(&rec, "", session)()
//	...
//	err := rec.Wait(ctx, func(ns []notify.Notification) bool {
//		return len(ns) > 0 && ns[len(ns)-1].Name == "SIPSessionDidEnd"
//	})
type Recorder struct {
	mu      sync.Mutex
	notes   []Notification
	changed chan struct{} // closed (and cleared) when a notification arrives
}

// HandleNotification records n.
func (r *Recorder) HandleNotification(n Notification) {
	r.mu.Lock()
	r.notes = append(r.notes, n)
	if r.changed != nil {
		close(r.changed)
		r.changed = nil
	}
	r.mu.Unlock()
}

// All returns a copy of everything recorded so far, in arrival order.
func (r *Recorder) All() []Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Notification(nil), r.notes...)
}

// Names returns the names of everything recorded so far, in arrival order.
func (r *Recorder) Names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return names(r.notes)
}

// Len returns the number of notifications recorded so far.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.notes)
}

// Reset forgets everything recorded so far.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notes = nil
}

// Wait blocks until pred, called with a copy of everything recorded so far,
// returns true. pred is re-evaluated each time a notification is recorded
// and is never called with the Recorder's lock held. If ctx ends first, Wait
// returns an error wrapping ctx.Err() that lists the names recorded so far.
func (r *Recorder) Wait(ctx context.Context, pred func([]Notification) bool) error {
	for {
		r.mu.Lock()
		snapshot := append([]Notification(nil), r.notes...)
		if r.changed == nil {
			r.changed = make(chan struct{})
		}
		changed := r.changed
		r.mu.Unlock()

		if pred(snapshot) {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("notify: Recorder.Wait: %w; recorded so far: %q", ctx.Err(), names(snapshot))
		}
	}
}

func names(ns []Notification) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.Name
	}
	return out
}
