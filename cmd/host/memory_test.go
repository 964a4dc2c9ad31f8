package main

import (
	"runtime"
	"testing"

	"github.com/sipstreams/sipstreams/framework/session"
)

// TestIdleTrimmer: memory is released only on idle ticks after a busy
// period, trimTimes times, and again after the next busy period.
func TestIdleTrimmer(t *testing.T) {
	var sessions int
	var invites uint64
	releases := 0
	tr := &idleTrimmer{active: func() int { return sessions }, activity: func() uint64 { return invites }, release: func() { releases++ }}

	steps := []struct {
		name         string
		sessions     int
		newInvites   uint64
		wantReleases int // in total after the tick
	}{
		{"idle from the start", 0, 0, 0},
		{"idle still", 0, 0, 0},
		{"calls up", 5, 5, 0},
		{"calls up, no new one", 5, 0, 0},
		{"all ended, but INVITEs came since the last tick", 0, 3, 0},
		{"idle 1", 0, 0, 1},
		{"idle 2", 0, 0, 2},
		{"refused INVITEs only: busy", 0, 7, 2},
		{"idle 1 again", 0, 0, 3},
		{"idle 2 again", 0, 0, 4},
		{"idle 3", 0, 0, 5},
		{"idle 4", 0, 0, 6},
		{"idle 5: done until busy", 0, 0, 6},
		{"idle 6", 0, 0, 6},
		{"one call", 1, 1, 6},
		{"idle after it", 0, 0, 7},
	}
	for _, s := range steps {
		sessions = s.sessions
		invites += s.newInvites
		tr.tick()
		if releases != s.wantReleases {
			t.Fatalf("%s: %d releases, want %d", s.name, releases, s.wantReleases)
		}
	}
}

// TestIdleTrimmerAfter: a release collects, runs after, and collects
// again, so that what after let go of is freed by the same release.
func TestIdleTrimmerAfter(t *testing.T) {
	calls := 0
	var atAfter uint32
	tr := newIdleTrimmer(new(session.Manager), func() {
		calls++
		atAfter = gcCount()
	})
	before := gcCount()
	tr.release()
	if calls != 1 {
		t.Fatalf("after ran %d times in a release", calls)
	}
	if atAfter <= before {
		t.Errorf("after ran before the release's first collection")
	}
	if gcCount() <= atAfter {
		t.Errorf("no collection after after")
	}
}

func gcCount() uint32 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.NumGC
}
