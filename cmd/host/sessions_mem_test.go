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

// TestSessionsPruneLetsGo: entries of ended sessions are otherwise
// dropped only when the list grows; after a load, the idle trimmer's
// prune drops those of the sessions collected since, and lets go of the
// room the load grew (the list's array, the map), keeping the live ones
// and the numbering.
func TestSessionsPruneLetsGo(t *testing.T) {
	ss := &sessions{}
	live := new(session.Session)
	ss.number(live)
	const load = 5000
	held := make([]*session.Session, 0, load) // reachable during the "load": nothing is pruned
	for range load {
		s := new(session.Session)
		ss.number(s)
		ss.ended(s)
		held = append(held, s)
	}
	ss.mu.Lock()
	grown := cap(ss.all)
	ss.mu.Unlock()
	if grown < load {
		t.Fatalf("list room %d after %d sessions held", grown, load)
	}
	clear(held)
	runtime.GC()
	ss.prune()

	ss.mu.Lock()
	n, room, mapped := len(ss.all), cap(ss.all), len(ss.byPtr)
	ss.mu.Unlock()
	if n != 1 || mapped != 1 {
		t.Errorf("%d entries, %d in the map after prune, want the live one", n, mapped)
	}
	if room > 64 {
		t.Errorf("list room %d after prune, want at most 64", room)
	}
	if got := ss.number(live); got != 1 {
		t.Errorf("the live session's number changed to %d", got)
	}
	if got := ss.number(new(session.Session)); got != load+2 {
		t.Errorf("next number %d, want %d", got, load+2)
	}
}
