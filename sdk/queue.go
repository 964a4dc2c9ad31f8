package sdk

import (
	"context"
	"sync"
)

// notificationQueue is an unbounded FIFO: posting never blocks on the
// consumer and never drops. One consumer reads at a time.
type notificationQueue struct {
	mu     sync.Mutex
	items  []Notification
	seq    uint64
	signal chan struct{} // closed and replaced when items arrive for a waiting reader
	waited bool          // a reader took signal to wait on it
	reader *queueReader  // the one consumer, until its context ends
}

func (q *notificationQueue) init() { q.signal = make(chan struct{}) }

func (q *notificationQueue) push(n Notification) {
	q.mu.Lock()
	q.seq++
	n.Seq = q.seq
	q.items = append(q.items, n)
	q.wakeLocked()
	q.mu.Unlock()
}

// requeue puts back a notification taken but not delivered, at the front,
// so the next consumer gets it first.
func (q *notificationQueue) requeue(n Notification) {
	q.mu.Lock()
	q.items = append([]Notification{n}, q.items...)
	q.wakeLocked()
	q.mu.Unlock()
}

// wakeLocked wakes a reader waiting for items. Without one the signal
// stays as it is: a notification posted while the reader is busy costs
// no channel.
func (q *notificationQueue) wakeLocked() {
	if q.waited {
		close(q.signal)
		q.signal = make(chan struct{})
		q.waited = false
	}
}

func (q *notificationQueue) subscribe(ctx context.Context) (NotificationStream, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.reader != nil {
		return nil, Errorf(ErrIllegalState, "notifications already have a consumer")
	}
	r := &queueReader{q: q, ctx: ctx}
	q.reader = r
	// The consumer leaves when its context ends, whether or not it calls
	// Recv again (a gRPC handler whose Send failed does not).
	context.AfterFunc(ctx, func() {
		q.mu.Lock()
		if q.reader == r {
			q.reader = nil
		}
		q.mu.Unlock()
	})
	return r, nil
}

type queueReader struct {
	q   *notificationQueue
	ctx context.Context
}

// tryRecv returns the next notification if one is queued, without blocking.
func (r *queueReader) tryRecv() (*Notification, bool) {
	q := r.q
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) == 0 || r.ctx.Err() != nil {
		return nil, false
	}
	n := q.items[0]
	q.items[0] = Notification{}
	q.items = q.items[1:]
	if len(q.items) == 0 {
		q.items = nil
	}
	return &n, true
}

func (r *queueReader) Recv() (*Notification, error) {
	q := r.q
	for {
		if err := r.ctx.Err(); err != nil {
			return nil, err
		}
		q.mu.Lock()
		if len(q.items) > 0 {
			n := q.items[0]
			q.items[0] = Notification{}
			q.items = q.items[1:]
			if len(q.items) == 0 {
				q.items = nil
			}
			q.mu.Unlock()
			return &n, nil
		}
		wait := q.signal
		q.waited = true
		q.mu.Unlock()
		select {
		case <-wait:
		case <-r.ctx.Done():
			return nil, r.ctx.Err()
		}
	}
}
