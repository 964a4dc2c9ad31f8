package sdk

import "sync"

// workers runs the calls of one Calls stream (calls_server.go), each on a
// goroutine of its own as gRPC runs unary calls, but on goroutines that
// stay for the next call instead of a new one each time: a new goroutine
// starts with a small stack and grows it (copying it each time) through
// the decoding, the stream's method and the encoding, which under load
// was a tenth of a plugin's CPU. A call that finds no worker waiting
// starts one, so a call that blocks never holds up another; a worker that
// finishes while maxIdle others already wait ends.
type workers struct {
	tasks   chan func() // unbuffered: a send succeeds only into a waiting worker
	maxIdle int

	mu   sync.Mutex
	idle int // workers waiting on tasks
	live int // workers started and not ended
	wg   sync.WaitGroup
}

// maxIdleWorkers is how many workers wait for calls at most per stream.
const maxIdleWorkers = 64

func newWorkers(maxIdle int) *workers {
	return &workers{tasks: make(chan func()), maxIdle: maxIdle}
}

// run runs f on a waiting worker, or on a new one. It must not be called
// after close.
func (w *workers) run(f func()) {
	select {
	case w.tasks <- f:
	default:
		w.mu.Lock()
		w.live++
		w.mu.Unlock()
		w.wg.Go(func() {
			f()
			w.serve()
			w.mu.Lock()
			w.live--
			w.mu.Unlock()
		})
	}
}

// serve takes calls until close, or until maxIdle others wait already.
func (w *workers) serve() {
	for {
		w.mu.Lock()
		if w.idle >= w.maxIdle {
			w.mu.Unlock()
			return
		}
		w.idle++
		w.mu.Unlock()
		f, ok := <-w.tasks
		w.mu.Lock()
		w.idle--
		w.mu.Unlock()
		if !ok {
			return
		}
		f()
	}
}

// close ends the waiting workers and waits for every call run started.
func (w *workers) close() {
	close(w.tasks)
	w.wg.Wait()
}
