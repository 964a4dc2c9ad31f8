package main

import (
	"runtime"
	"testing"

	"github.com/sipstreams/sipstreams/framework/session"
)

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
	tr.Release()
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
