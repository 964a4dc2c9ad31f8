package workers

import (
	"sync"
	"time"
)

// Pool runs each function given to Go on a goroutine of its own, as the
// go statement does, but on goroutines that stay for the next function
// instead of a new one each time. A function that finds no worker
// waiting starts one, so a function that blocks never holds up another.
// A worker that finishes while maxIdle others already wait ends, and so
// do the waiting ones once no function at all ran for a whole linger (one
// timer for the pool, not one per function): a load leaves no goroutines
// behind. The worker that waited least is taken first (its stack is the
// likeliest to be grown and cached). Safe for concurrent use.
type Pool struct {
	maxIdle int
	linger  time.Duration

	mu     sync.Mutex
	idle   []chan func() // the waiting workers' channels, the latest last; nil sent ends one
	live   int           // workers started and not ended
	used   bool          // a waiting worker took a function since reap last looked
	reaper *time.Timer   // runs reap while workers are alive; nil when not armed
	closed bool
	wg     sync.WaitGroup
}

// New returns a pool that keeps at most maxIdle workers waiting, and none
// once no function ran for linger.
func New(maxIdle int, linger time.Duration) *Pool {
	return &Pool{maxIdle: maxIdle, linger: linger}
}

// Go runs f on a waiting worker, or on a new one. It must not be called
// once Close was.
func (p *Pool) Go(f func()) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		ch := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.used = true
		p.mu.Unlock()
		ch <- f // buffered: the worker is waiting on it, or about to
		return
	}
	p.live++
	if p.reaper == nil && !p.closed {
		p.reaper = time.AfterFunc(p.linger, p.reap)
	}
	p.mu.Unlock()
	p.wg.Go(func() {
		f()
		p.serve()
	})
}

// serve takes functions until it is ended (Close, reap) or finds maxIdle
// others waiting already.
func (p *Pool) serve() {
	ch := make(chan func(), 1)
	for {
		p.mu.Lock()
		if p.closed || len(p.idle) >= p.maxIdle {
			p.live--
			p.mu.Unlock()
			return
		}
		p.idle = append(p.idle, ch)
		p.mu.Unlock()
		f := <-ch
		if f == nil {
			p.mu.Lock()
			p.live--
			p.mu.Unlock()
			return
		}
		f()
	}
}

// endIdleLocked ends the waiting workers; p.mu is held.
func (p *Pool) endIdleLocked() {
	for _, ch := range p.idle {
		ch <- nil
	}
	clear(p.idle)
	p.idle = p.idle[:0]
}

// reap ends the waiting workers when none was needed for a whole linger,
// and looks again a linger later while workers are alive.
func (p *Pool) reap() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	busy := p.live > len(p.idle) // they wait afterwards
	if !p.used {
		p.endIdleLocked()
	}
	if p.used || busy {
		p.used = false
		p.reaper.Reset(p.linger)
		return
	}
	p.reaper = nil
}

// Close ends the waiting workers and waits for every function Go started.
// Calling it again does the same: nothing is left to end.
func (p *Pool) Close() {
	p.mu.Lock()
	p.closed = true
	if p.reaper != nil {
		p.reaper.Stop()
		p.reaper = nil
	}
	p.endIdleLocked()
	p.mu.Unlock()
	p.wg.Wait()
}
