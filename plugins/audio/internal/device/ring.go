package device

import "sync/atomic"

// Ring is a bounded queue of samples for exactly one writer goroutine and
// one reader goroutine, without locks: the device's real-time callback must
// not block on the Processor's goroutine, nor the other way round.
type Ring struct {
	buf  []int16
	head atomic.Uint64 // next read position; only the reader stores it
	tail atomic.Uint64 // next write position; only the writer stores it
}

// NewRing returns a Ring holding up to capacity samples.
func NewRing(capacity int) *Ring { return &Ring{buf: make([]int16, capacity)} }

// Len returns the number of samples queued.
func (r *Ring) Len() int { return int(r.tail.Load() - r.head.Load()) }

// Cap returns the capacity.
func (r *Ring) Cap() int { return len(r.buf) }

// Write queues as many samples of p as fit and returns how many did.
func (r *Ring) Write(p []int16) int {
	tail, head := r.tail.Load(), r.head.Load()
	n := min(len(p), len(r.buf)-int(tail-head))
	for i := 0; i < n; i++ {
		r.buf[(tail+uint64(i))%uint64(len(r.buf))] = p[i]
	}
	r.tail.Store(tail + uint64(n))
	return n
}

// Read dequeues up to len(p) samples into p and returns how many it did.
func (r *Ring) Read(p []int16) int {
	head, tail := r.head.Load(), r.tail.Load()
	n := min(len(p), int(tail-head))
	for i := 0; i < n; i++ {
		p[i] = r.buf[(head+uint64(i))%uint64(len(r.buf))]
	}
	r.head.Store(head + uint64(n))
	return n
}
