package sdk

import (
	"sync"
	"testing"
	"time"
)

// counts returns the workers waiting and alive.
func (w *workers) counts() (idle, live int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.idle, w.live
}

// awaitCounts waits until w has idle workers waiting and live alive.
func awaitCounts(t *testing.T, w *workers, idle, live int) {
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
	w := newWorkers(4)
	defer w.close()
	for range 100 {
		done := make(chan struct{})
		w.run(func() { close(done) })
		<-done
		awaitCounts(t, w, 1, 1) // the worker is back, waiting for the next
	}
}

// TestWorkersBlocking: a call that blocks does not hold up the next one,
// however few workers wait.
func TestWorkersBlocking(t *testing.T) {
	for _, maxIdle := range []int{0, 1, 4} {
		w := newWorkers(maxIdle)
		release := make(chan struct{})
		var wg sync.WaitGroup
		for range 10 {
			wg.Add(1)
			w.run(func() {
				defer wg.Done()
				<-release
			})
		}
		ran := make(chan struct{})
		w.run(func() { close(ran) }) // all ten are blocked: this one needs a worker of its own
		select {
		case <-ran:
		case <-time.After(10 * time.Second):
			t.Fatalf("maxIdle %d: a call waited for blocked ones", maxIdle)
		}
		close(release)
		wg.Wait()
		w.close()
	}
}

// TestWorkersIdleBound: once a burst of calls is over, at most maxIdle
// workers stay.
func TestWorkersIdleBound(t *testing.T) {
	w := newWorkers(2)
	release := make(chan struct{})
	for range 8 {
		w.run(func() { <-release })
	}
	awaitCounts(t, w, 0, 8)
	close(release)
	awaitCounts(t, w, 2, 2)
	w.close()
	awaitCounts(t, w, 0, 0)
}

// TestWorkersCloseWaits: close returns once the calls running ended.
func TestWorkersCloseWaits(t *testing.T) {
	w := newWorkers(2)
	release, ended := make(chan struct{}), make(chan struct{})
	w.run(func() {
		<-release
		close(ended)
	})
	closed := make(chan struct{})
	go func() {
		w.close()
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
