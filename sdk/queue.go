package sdk

import (
	"context"
	"sync"
)

// notificationQueue is an unbounded FIFO: posting never blocks on the
// consumer and never drops. One consumer reads at a time.
type notificationQueue struct {
	mu      sync.Mutex
	items   []Notification
	seq     uint64
	signal  chan struct{} // closed and replaced when items arrive
	reading bool
}

func (q *notificationQueue) init() { q.signal = make(chan struct{}) }

func (q *notificationQueue) push(n Notification) {
	q.mu.Lock()
	q.seq++
	n.Seq = q.seq
	q.items = append(q.items, n)
	close(q.signal)
	q.signal = make(chan struct{})
	q.mu.Unlock()
}

func (q *notificationQueue) subscribe(ctx context.Context) (NotificationStream, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.reading {
		return nil, Errorf(ErrIllegalState, "notifications already have a consumer")
	}
	q.reading = true
	return &queueReader{q: q, ctx: ctx}, nil
}

type queueReader struct {
	q   *notificationQueue
	ctx context.Context
}

func (r *queueReader) Recv() (*Notification, error) {
	q := r.q
	for {
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
		q.mu.Unlock()
		select {
		case <-wait:
		case <-r.ctx.Done():
			q.mu.Lock()
			q.reading = false
			q.mu.Unlock()
			return nil, r.ctx.Err()
		}
	}
}
