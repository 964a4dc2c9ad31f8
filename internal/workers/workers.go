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
// behind. Safe for concurrent use.
type Pool struct {
	tasks   chan func() // unbuffered: a send succeeds only into a waiting worker
	maxIdle int
	linger  time.Duration

	mu     sync.Mutex
	idle   int           // workers waiting on tasks
	live   int           // workers started and not ended
	used   bool          // a waiting worker took a function since reap last looked
	retire chan struct{} // closed by reap: the workers waiting then end
	reaper *time.Timer   // runs reap while workers are alive; nil when not armed
	closed bool
	wg     sync.WaitGroup
}

// New returns a pool that keeps at most maxIdle workers waiting, and none
// once no function ran for linger.
func New(maxIdle int, linger time.Duration) *Pool {
	return &Pool{tasks: make(chan func()), maxIdle: maxIdle, linger: linger, retire: make(chan struct{})}
}

// Go runs f on a waiting worker, or on a new one. It must not be called
// once Close was.
func (p *Pool) Go(f func()) {
	select {
	case p.tasks <- f:
		return
	default:
	}
	p.mu.Lock()
	p.live++
	if p.reaper == nil && !p.closed {
		p.reaper = time.AfterFunc(p.linger, p.reap)
	}
	p.mu.Unlock()
	p.wg.Go(func() {
		f()
		p.serve()
		p.mu.Lock()
		p.live--
		p.mu.Unlock()
	})
}

// serve takes functions until Close or reap, or until maxIdle others
// wait already.
func (p *Pool) serve() {
	for {
		p.mu.Lock()
		if p.idle >= p.maxIdle {
			p.mu.Unlock()
			return
		}
		p.idle++
		retire := p.retire
		p.mu.Unlock()
		var (
			f  func()
			ok bool
		)
		select {
		case f, ok = <-p.tasks:
		case <-retire:
		}
		p.mu.Lock()
		p.idle--
		p.used = p.used || ok
		p.mu.Unlock()
		if !ok {
			return
		}
		f()
	}
}

// reap ends the waiting workers when none was needed for a whole linger,
// and looks again a linger later while workers are alive.
func (p *Pool) reap() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	busy := p.live > p.idle // they wait afterwards
	if !p.used {
		close(p.retire)
		p.retire = make(chan struct{})
	}
	if p.used || busy {
		p.used = false
		p.reaper.Reset(p.linger)
		return
	}
	p.reaper = nil
}

// Close ends the waiting workers and waits for every function Go started.
func (p *Pool) Close() {
	p.mu.Lock()
	p.closed = true
	if p.reaper != nil {
		p.reaper.Stop()
		p.reaper = nil
	}
	p.mu.Unlock()
	close(p.tasks)
	p.wg.Wait()
}
