package session

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/internal/sipptest"
)

// TestEndedSessionCollected: once a call ended, nothing of the framework
// keeps its Session: sipgo keeps the INVITE's server transaction 64·T1
// (32 s) after the 2xx (RFC 6026), and a CANCEL callback registered on it
// held the session, everything it references, that long (190 MB at 1,000
// calls/s). The session must be collectable well before 32 s.
func TestEndedSessionCollected(t *testing.T) {
	h := newHost(t, "host")
	autoAnswer(t, h)
	collected := make(chan struct{}, 1)
	ended := make(chan struct{}, 1)
	unsub := h.center.Subscribe(notify.ObserverFunc(func(n notify.Notification) {
		s, ok := n.Sender.(*Session)
		if !ok {
			return
		}
		switch n.Name {
		case SIPSessionNewIncoming:
			runtime.AddCleanup(s, func(ch chan struct{}) { ch <- struct{}{} }, collected)
		case SIPSessionDidEnd:
			ended <- struct{}{}
		}
	}), "", nil)
	t.Cleanup(unsub)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sippOK(t, "uac_echo", sipptest.Run(t, ctx, sipptest.Options{Scenario: "uac_echo.xml", Remote: h.addr()}))
	select {
	case <-ended:
	case <-ctx.Done():
		t.Fatal("the session did not end")
	}
	// Collections until the cleanup ran: well within sipgo's 32 s.
	deadline := time.After(20 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		runtime.GC()
		select {
		case <-collected:
			return
		case <-deadline:
			t.Fatal("the ended session is still reachable 20 s after it ended")
		case <-tick.C:
		}
	}
}
