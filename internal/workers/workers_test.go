package workers

import (
	"sync"
	"testing"
	"time"
)

// counts returns the workers waiting and alive.
func (w *Pool) counts() (idle, live int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.idle), w.live
}

// awaitCounts waits until w has idle workers waiting and live alive.
func awaitCounts(t *testing.T, w *Pool, idle, live int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		i, l := w.counts()
		if i == idle && l == live {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("workers: %d waiting, %d alive; want %d, %d", i, l, idle, live)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestWorkersReuse: calls one after the other run on one goroutine.
func TestWorkersReuse(t *testing.T) {
	w := New(4, time.Minute)
	defer w.Close()
	for range 100 {
		done := make(chan struct{})
		w.Go(func() { close(done) })
		<-done
		awaitCounts(t, w, 1, 1) // the worker is back, waiting for the next
	}
}

// TestWorkersBlocking: a call that blocks does not hold up the next one,
// however few workers wait.
func TestWorkersBlocking(t *testing.T) {
	for _, maxIdle := range []int{0, 1, 4} {
		w := New(maxIdle, time.Minute)
		release := make(chan struct{})
		var wg sync.WaitGroup
		for range 10 {
			wg.Add(1)
			w.Go(func() {
				defer wg.Done()
				<-release
			})
		}
		ran := make(chan struct{})
		w.Go(func() { close(ran) }) // all ten are blocked: this one needs a worker of its own
		select {
		case <-ran:
		case <-time.After(10 * time.Second):
			t.Fatalf("maxIdle %d: a call waited for blocked ones", maxIdle)
		}
		close(release)
		wg.Wait()
		w.Close()
	}
}

// TestWorkersIdleBound: once a burst of calls is over, at most maxIdle
// workers stay.
func TestWorkersIdleBound(t *testing.T) {
	w := New(2, time.Minute)
	release := make(chan struct{})
	for range 8 {
		w.Go(func() { <-release })
	}
	awaitCounts(t, w, 0, 8)
	close(release)
	awaitCounts(t, w, 2, 2)
	w.Close()
	awaitCounts(t, w, 0, 0)
}

// TestWorkersCloseWaits: close returns once the calls running ended.
func TestWorkersCloseWaits(t *testing.T) {
	w := New(2, time.Minute)
	release, ended := make(chan struct{}), make(chan struct{})
	w.Go(func() {
		<-release
		close(ended)
	})
	closed := make(chan struct{})
	go func() {
		w.Close()
		close(closed)
	}()
	select {
	case <-closed:
		t.Fatal("close returned while a call was running")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	<-closed
	select {
	case <-ended:
	default:
		t.Fatal("close returned before the call ended")
	}
}

// TestWorkersLinger: once no function ran for a linger, the waiting
// workers end; while functions run, they stay.
func TestWorkersLinger(t *testing.T) {
	w := New(4, 50*time.Millisecond)
	defer w.Close()
	release := make(chan struct{})
	for range 3 {
		w.Go(func() { <-release })
	}
	close(release)
	awaitCounts(t, w, 0, 0) // three waited, then none was needed
	// A new function starts a worker again, and the reaper with it.
	done := make(chan struct{})
	w.Go(func() { close(done) })
	<-done
	awaitCounts(t, w, 0, 0)
}

// TestWorkersReap: the reaper (run by hand here) ends the waiting
// workers only after a linger in which none took a function.
func TestWorkersReap(t *testing.T) {
	w := New(2, time.Hour) // its own timer never fires in the test
	defer w.Close()
	run := func() {
		done := make(chan struct{})
		w.Go(func() { close(done) })
		<-done
		awaitCounts(t, w, 1, 1)
	}
	run()    // starts the worker
	run()    // the worker takes it
	w.reap() // it was used: it stays
	awaitCounts(t, w, 1, 1)
	run()
	w.reap()
	awaitCounts(t, w, 1, 1)
	w.reap() // a whole linger unused: it ends
	awaitCounts(t, w, 0, 0)
}

// TestWorkersCloseTwice: a second Close returns at once.
func TestWorkersCloseTwice(t *testing.T) {
	w := New(2, time.Minute)
	done := make(chan struct{})
	w.Go(func() { close(done) })
	<-done
	w.Close()
	w.Close()
	awaitCounts(t, w, 0, 0)
}
