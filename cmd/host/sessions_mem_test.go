package main

import (
	"runtime"
	"testing"

	"github.com/sipstreams/sipstreams/framework/session"
)

// TestSessionsForgetEnded: a long-running listener numbers every session
// it sees; an ended session must not stay reachable from the console
// (9,000 calls of the soak kept 60 MB alive through it), and the entries
// of sessions that are gone are dropped, while numbers keep growing.
func TestSessionsForgetEnded(t *testing.T) {
	ss := &sessions{}
	live := new(session.Session)
	if n := ss.number(live); n != 1 {
		t.Fatalf("first number %d", n)
	}
	for i := range 1000 {
		s := new(session.Session)
		if n := ss.number(s); n != i+2 {
			t.Fatalf("number %d, want %d", n, i+2)
		}
		ss.ended(s)
		if i%100 == 0 {
			runtime.GC()
		}
	}
	runtime.GC()
	ss.number(new(session.Session))
	ss.mu.Lock()
	kept := len(ss.all)
	ss.mu.Unlock()
	if kept > 200 {
		t.Errorf("%d entries kept after 1,000 sessions ended and were collected", kept)
	}
	if n := ss.number(live); n != 1 {
		t.Errorf("the live session's number changed to %d", n)
	}
	if got := ss.live(); len(got) != 2 || got[0] != live {
		t.Errorf("live sessions %v", got)
	}
}
