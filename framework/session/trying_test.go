package session

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sipstreams/sipstreams/framework/notify"
)

// TestTryingOnlyWhenSlow: an INVITE the application answers at once gets
// its 200 with no 100 Trying before it; one it leaves unanswered gets a
// 100 Trying from its server transaction, within 200 ms as RFC 3261
// §17.2.1 wants of a TU that does not answer sooner, then the final
// response.
func TestTryingOnlyWhenSlow(t *testing.T) {
	a := newHost(t, "alice")
	b := newHost(t, "bob")
	var hold atomic.Bool
	held := make(chan *Session, 1)
	unsub := b.center.Subscribe(notify.ObserverFunc(func(n notify.Notification) {
		s, d := n.Sender.(*Session), n.Data.(NewIncomingData)
		if hold.Load() {
			held <- s
			return
		}
		go func() {
			if err := s.Accept(d.Streams); err != nil {
				t.Errorf("Accept: %v", err)
			}
		}()
	}), SIPSessionNewIncoming, nil)
	t.Cleanup(unsub)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// call sends inv and returns the status codes of every response up
	// to the final one, the final one and how long it took; provisional
	// sees each provisional response.
	call := func(inv *sip.Request, provisional func(code int)) ([]int, *sip.Response, time.Duration) {
		t.Helper()
		start := time.Now()
		tx, err := a.eng.Request(ctx, inv, b.route())
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Terminate()
		var codes []int
		for {
			select {
			case res := <-tx.Responses():
				if res == nil {
					continue
				}
				codes = append(codes, res.StatusCode)
				if res.StatusCode >= 200 {
					return codes, res, time.Since(start)
				}
				if provisional != nil {
					provisional(res.StatusCode)
				}
			case <-tx.Done():
				t.Fatalf("no final response (got %v): %v", codes, tx.Err())
			case <-ctx.Done():
				t.Fatalf("no final response (got %v): %v", codes, ctx.Err())
			}
		}
	}

	inv := rawInvite(a, b, 1)
	codes, res, took := call(inv, nil)
	if res.StatusCode != 200 {
		t.Fatalf("answered at once: %v", codes)
	}
	if err := a.eng.Write(ackOf(inv, res), b.route()); err != nil {
		t.Fatal(err)
	}
	// The transaction's own 100 comes 200 ms after the INVITE reached it;
	// an answer the caller had sooner than that was sent sooner.
	if took < 150*time.Millisecond && !slices.Equal(codes, []int{200}) {
		t.Errorf("answered at once (in %v): responses %v, want only the 200", took, codes)
	} else if took >= 150*time.Millisecond {
		t.Logf("answered in %v on a slow machine: responses %v", took, codes)
	}

	hold.Store(true)
	codes, res, _ = call(rawInvite(a, b, 1), func(code int) {
		if code != 100 {
			return
		}
		select {
		case s := <-held:
			go func() {
				if err := s.Reject(486, "Busy Here"); err != nil {
					t.Errorf("Reject: %v", err)
				}
			}()
		case <-ctx.Done():
			t.Errorf("no SIPSessionNewIncoming for the held INVITE")
		}
	})
	if !slices.Equal(codes, []int{100, 486}) || res.StatusCode != 486 {
		t.Fatalf("left unanswered, then rejected: responses %v, want 100 then 486", codes)
	}
}
