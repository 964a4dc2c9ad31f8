package idletrim

import (
	"context"
	"testing"
	"time"
)

// TestTrimmer: memory is released only on idle ticks after a busy
// period, Times times, and again after the next busy period.
func TestTrimmer(t *testing.T) {
	var sessions int
	var invites uint64
	releases := 0
	tr := &Trimmer{Active: func() int { return sessions }, Activity: func() uint64 { return invites }, Release: func() { releases++ }}

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
		tr.Tick()
		if releases != s.wantReleases {
			t.Fatalf("%s: %d releases, want %d", s.name, releases, s.wantReleases)
		}
	}
}

// TestRun: Run ticks until its context ends, then returns.
func TestRun(t *testing.T) {
	ticked := make(chan struct{}, 1)
	tr := &Trimmer{Active: func() int { return 0 }, Activity: func() uint64 {
		select {
		case ticked <- struct{}{}:
		default:
		}
		return 0
	}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { tr.Run(ctx, time.Millisecond); close(done) }()
	<-ticked
	cancel()
	<-done
}
