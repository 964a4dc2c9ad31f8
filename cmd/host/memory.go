package main

import (
	"context"
	"runtime/debug"
	"time"

	"github.com/sipstreams/sipstreams/framework/session"
)

// Returning memory after a load. Go gives the pages of a heap that shrank
// back to the kernel slowly, and only after a collection, which an idle
// process hardly runs: after a burst of calls a host kept hundreds of MB of
// resident memory it no longer used. Once the host is idle (no session,
// no new INVITE for a whole tick) it collects and releases its free memory
// (debug.FreeOSMemory) a few ticks in a row — later ticks catch what the
// last SIP transactions held (one answered with an error waits for its
// ACK, then T4 = 5 s; one answered 2xx ends with it, see
// engine.ReleaseAcceptedInvites) — and then not again until it was busy.
const (
	trimTick  = 10 * time.Second
	trimTimes = 4 // releases after a busy period, a tick apart
)

// idleTrimmer decides when to release memory; it has no clock or goroutine
// of its own (run drives it), so that tests drive it tick by tick.
type idleTrimmer struct {
	active   func() int    // sessions now
	activity func() uint64 // grows with every INVITE taken or refused
	release  func()

	last    uint64
	pending int
}

// newIdleTrimmer watches m. Each release collects and returns the free
// memory; with after (not nil), it then runs after and does it once more:
// what can only be let go of once a collection ran (the console's entries
// of the sessions it collected) is let go of in after, and freed by the
// second collection (an idle heap is a few MB: a millisecond or two).
func newIdleTrimmer(m *session.Manager, after func()) *idleTrimmer {
	return &idleTrimmer{
		active:   m.Len,
		activity: func() uint64 { st := m.OverloadStats(); return st.Admitted + st.Refused },
		release: func() {
			debug.FreeOSMemory()
			if after != nil {
				after()
				debug.FreeOSMemory()
			}
		},
	}
}

// tick is one look at the host: busy, it arms the releases; idle, it
// makes one of those armed.
func (t *idleTrimmer) tick() {
	a := t.activity()
	busy := t.active() > 0 || a != t.last
	t.last = a
	if busy {
		t.pending = trimTimes
		return
	}
	if t.pending > 0 {
		t.pending--
		t.release()
	}
}

// run ticks every trimTick until ctx ends.
func (t *idleTrimmer) run(ctx context.Context) {
	tk := time.NewTicker(trimTick)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
			t.tick()
		}
	}
}
