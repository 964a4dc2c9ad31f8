package idletrim

import (
	"context"
	"runtime/debug"
	"time"
)

// Defaults.
const (
	// Tick is how often Run looks.
	Tick = 10 * time.Second
	// Times is how many releases follow a busy period, a tick apart.
	Times = 4
)

// Trimmer decides when to release memory. It has no clock or goroutine of
// its own (Run drives it), so that tests drive it tick by tick.
type Trimmer struct {
	// Active is the work in progress now (sessions, streams): above 0,
	// the process is busy.
	Active func() int
	// Activity grows with each piece of work taken (an INVITE taken or
	// refused, a stream opened): a change since the last tick is busy.
	Activity func() uint64
	// Release returns the memory; nil: debug.FreeOSMemory.
	Release func()

	last    uint64
	pending int
}

// Tick is one look at the process: busy, it arms the releases; idle, it
// makes one of those armed.
func (t *Trimmer) Tick() {
	a := t.Activity()
	busy := t.Active() > 0 || a != t.last
	t.last = a
	if busy {
		t.pending = Times
		return
	}
	if t.pending > 0 {
		t.pending--
		if t.Release != nil {
			t.Release()
		} else {
			debug.FreeOSMemory()
		}
	}
}

// Run ticks every interval until ctx ends.
func (t *Trimmer) Run(ctx context.Context, every time.Duration) {
	tk := time.NewTicker(every)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
			t.Tick()
		}
	}
}
