package gcpace

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

const mib = 1 << 20

// effectiveGoal is the goal the runtime sets for h at percent: the
// percent's goal, but not under its minimum heap.
func effectiveGoal(h Heap, percent int) float64 {
	return max(h.goal(percent), float64(heapMinimum)*float64(percent)/100)
}

// step is one collection a Policy is told of, in a table of them.
type step struct {
	name     string
	after    time.Duration // since t0
	heap     Heap
	wantPct  int     // the GOGC, when not 0
	wantGoal float64 // otherwise: the effective goal, in MiB (within 2 %)
}

// runSteps tells p of each step in turn, at t0 plus its after, and
// checks the GOGC p returns, never under least.
func runSteps(t *testing.T, p *Policy, least int, steps []step) {
	t.Helper()
	t0 := time.Unix(1000, 0)
	for _, s := range steps {
		pct := p.Next(t0.Add(s.after), s.heap)
		if pct < least {
			t.Fatalf("%s: GOGC %d under %d", s.name, pct, least)
		}
		if s.wantPct != 0 {
			if pct != s.wantPct {
				t.Fatalf("%s: GOGC %d, want %d", s.name, pct, s.wantPct)
			}
			continue
		}
		got := effectiveGoal(s.heap, pct) / mib
		if math.Abs(got-s.wantGoal)/s.wantGoal > 0.02 {
			t.Fatalf("%s: GOGC %d gives a goal of %.2f MiB, want %.2f", s.name, pct, got, s.wantGoal)
		}
	}
}

// TestPolicy: the goal rises with the base's own at once, and after a
// drop of the live heap comes down by half per half-life, never to a GOGC
// under the base.
func TestPolicy(t *testing.T) {
	runSteps(t, &Policy{Base: 400, HalfLife: 10 * time.Second}, 400, []step{
		{"first collection: the base", 0, Heap{Live: 4 * mib, Stacks: mib}, 400, 0},
		{"live grows: the base's goal is higher", time.Second, Heap{Live: 10 * mib}, 400, 0},
		{"live falls: the last goal, decayed a tenth of a half-life", 2 * time.Second, Heap{Live: 2 * mib}, 0, 50 * math.Exp2(-0.1)},
		{"a half-life after the peak", 11 * time.Second, Heap{Live: 2 * mib, Stacks: mib}, 0, 25},
		{"rises again over the kept goal: the base", 12 * time.Second, Heap{Live: 8 * mib}, 400, 0},
		{"long after: decayed under the base's own", 100 * time.Second, Heap{Live: 2 * mib}, 400, 0},
	})
}

// TestPolicyCeiling: over the Ceiling the goal is the Ceiling, by a
// GOGC under the base, unless the Floor's own goal is higher (then the
// Floor, never lower); a kept goal decays from what was aimed at, under
// the Ceiling too. A Floor over the Base is the Base.
func TestPolicyCeiling(t *testing.T) {
	runSteps(t, &Policy{Base: 400, HalfLife: 10 * time.Second, Ceiling: 32 * mib, Floor: 100}, 100, []step{
		{"under the ceiling: the base", 0, Heap{Live: 4 * mib, Stacks: mib}, 400, 0},
		{"the base's goal over it: the ceiling", time.Second, Heap{Live: 8 * mib, Stacks: 2 * mib}, 0, 32},
		{"the floor's goal over it: the floor", 2 * time.Second, Heap{Live: 20 * mib, Stacks: 2 * mib}, 100, 0},
		{"live falls, the kept goal decayed still over it: the ceiling", 3 * time.Second, Heap{Live: 2 * mib, Stacks: mib}, 0, 32},
		{"a half-life later: the kept goal, decayed", 13 * time.Second, Heap{Live: 2 * mib, Stacks: mib}, 0, 16},
		{"long after: the base", 100 * time.Second, Heap{Live: 2 * mib}, 400, 0},
	})
	runSteps(t, &Policy{Base: 100, Ceiling: mib, Floor: 400}, 100, []step{
		{"a floor over the base: the base", 0, Heap{Live: 8 * mib}, 100, 0},
	})
}

// TestPolicyEmpty: no live heap, no roots (a collection before anything
// was allocated): the base, whatever was kept.
func TestPolicyEmpty(t *testing.T) {
	t0 := time.Unix(1000, 0)
	p := &Policy{Base: 100}
	p.Next(t0, Heap{Live: 50 * mib})
	if pct := p.Next(t0.Add(time.Second), Heap{}); pct != 100 {
		t.Fatalf("GOGC %d for an empty heap, want the base", pct)
	}
}

func readUint(name string) uint64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// collect waits for p to follow one more collection (its cleanup runs
// after the collection, on the runtime's goroutine).
func collect(t *testing.T, p *Pacer) {
	t.Helper()
	n := p.Cycles()
	deadline := time.Now().Add(20 * time.Second)
	for p.Cycles() == n {
		if time.Now().After(deadline) {
			t.Fatalf("no cycle followed after %d", n)
		}
		runtime.GC()
		runtime.Gosched()
	}
}

// liveHeap allocates n MiB, each page of it touched.
func liveHeap(n int) [][]byte {
	big := make([][]byte, n)
	for i := range big {
		big[i] = make([]byte, mib)
		for j := 0; j < mib; j += 4096 {
			big[i][j] = 1
		}
	}
	return big
}

// TestPacer: on the real runtime, after a large live heap is dropped
// the Pacer keeps the goal up (GOGC over the base), and after Stop
// GOGC is the base again.
func TestPacer(t *testing.T) {
	old := debug.SetGCPercent(200)
	defer debug.SetGCPercent(old)
	p := New()
	if p.policy.Base != 200 {
		t.Fatalf("base %d, want the GOGC in effect, 200", p.policy.Base)
	}
	p.Start()

	big := liveHeap(64)
	collect(t, p)
	collect(t, p)
	peak := readUint("/gc/heap/goal:bytes")
	runtime.KeepAlive(big)
	big = nil
	collect(t, p)
	if got := readUint("/gc/gogc:percent"); got <= 200 {
		t.Fatalf("GOGC %d after the live heap fell, want more than the base 200", got)
	}
	if goal := readUint("/gc/heap/goal:bytes"); goal < peak/2 {
		t.Fatalf("goal %d MiB after the drop, want near the peak's %d MiB", goal/mib, peak/mib)
	}
	p.Stop()
	if got := readUint("/gc/gogc:percent"); got != 200 {
		t.Fatalf("GOGC %d after Stop, want the base 200", got)
	}
}

// TestPacerCeiling: on the real runtime, a live heap whose base goal is
// over the ceiling runs at the floor's GOGC; once it is dropped the goal
// is back under the ceiling.
func TestPacerCeiling(t *testing.T) {
	old := debug.SetGCPercent(400)
	defer debug.SetGCPercent(old)
	const ceiling = 24 * mib
	p := New(WithCeiling(ceiling, 100))
	p.Start()
	defer p.Stop()
	big := liveHeap(16)
	collect(t, p)
	if got := readUint("/gc/gogc:percent"); got != 100 {
		t.Fatalf("GOGC %d with 16 MiB live (the base's goal 80 MiB, over the ceiling's 24), want the floor 100", got)
	}
	runtime.KeepAlive(big)
	big = nil
	collect(t, p)
	if goal := readUint("/gc/heap/goal:bytes"); goal > ceiling+mib {
		t.Fatalf("goal %d MiB after the drop, want the ceiling's %d at most", goal/mib, ceiling/mib)
	}
}

// TestPacerOff: with GOGC off there is nothing to pace; Stop leaves GOGC
// off.
func TestPacerOff(t *testing.T) {
	old := debug.SetGCPercent(-1)
	defer debug.SetGCPercent(old)
	p := New()
	p.Start()
	p.Stop()
	if p.Cycles() != 0 {
		t.Fatalf("%d cycles followed with GOGC off", p.Cycles())
	}
	if got := debug.SetGCPercent(-1); got != -1 {
		t.Fatalf("GOGC %d after Stop, want off", got)
	}
}
