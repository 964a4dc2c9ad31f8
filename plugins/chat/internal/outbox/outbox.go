package outbox

import (
	"errors"
	"sync"

	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/chat"
)

// ErrClosed is returned by Add after Close.
var ErrClosed = errors.New("outbox: stream ended")

// Item is one outgoing message.
type Item struct {
	ID string
	// Value is what the stream queued (the message to encode when it is
	// sent); the outbox does not look at it.
	Value any
	// Track asks for delivery notifications (and Success-Report and
	// Failure-Report yes on the wire).
	Track bool
}

// state is where a tracked message is.
type state int

const (
	queued  state = iota // waiting for Take
	sending              // taken, not yet handed to the connection
	sent                 // handed over, waiting for its outcome
)

// Outbox is the queue and the delivery book-keeping of one stream.
type Outbox struct {
	post  sdk.Notifier
	ready chan struct{}

	mu     sync.Mutex
	queue  []Item
	states map[string]state // tracked messages without an outcome yet
	order  []string         // IDs in the order added, for Close
	closed bool
}

// New returns an empty Outbox posting to post.
func New(post sdk.Notifier) *Outbox {
	return &Outbox{post: post, ready: make(chan struct{}, 1), states: map[string]state{}}
}

// Add queues it; after Close it fails with ErrClosed.
func (o *Outbox) Add(it Item) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return ErrClosed
	}
	o.queue = append(o.queue, it)
	if it.Track {
		o.states[it.ID] = queued
		o.order = append(o.order, it.ID)
		if len(o.order) > 64 && len(o.order) > 2*len(o.states) {
			o.compactLocked()
		}
	}
	select {
	case o.ready <- struct{}{}:
	default:
	}
	return nil
}

// Ready receives a value after Add; Take may then have items.
func (o *Outbox) Ready() <-chan struct{} { return o.ready }

// Take removes and returns the oldest queued item.
func (o *Outbox) Take() (Item, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed || len(o.queue) == 0 {
		return Item{}, false
	}
	it := o.queue[0]
	o.queue[0] = Item{}
	o.queue = o.queue[1:]
	if _, ok := o.states[it.ID]; ok {
		o.states[it.ID] = sending
	}
	return it, true
}

// Len returns the number of queued items.
func (o *Outbox) Len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.queue)
}

// Sent records that id was handed to the connection.
func (o *Outbox) Sent(id string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sentLocked(id)
}

func (o *Outbox) sentLocked(id string) {
	if st, ok := o.states[id]; ok && st < sent {
		o.states[id] = sent
		o.post.Post(chat.DidSendMessage, chat.DidSendMessageData{MessageID: id})
	}
}

// Result records the transaction response for id: a failure is final, a
// 2xx waits for the REPORT.
func (o *Outbox) Result(id string, code int, comment string) {
	if code >= 200 && code <= 299 {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.finishLocked(id, code, comment)
}

// Report records a REPORT about id; it returns false when id is not a
// message waiting for its outcome.
func (o *Outbox) Report(id string, code int, comment string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.states[id]; !ok {
		return false
	}
	o.sentLocked(id)
	o.finishLocked(id, code, comment)
	return true
}

// finishLocked posts the final notification of id, once.
func (o *Outbox) finishLocked(id string, code int, comment string) {
	if _, ok := o.states[id]; !ok {
		return
	}
	delete(o.states, id)
	name := chat.DidNotDeliverMessage
	if code == 200 {
		name = chat.DidDeliverMessage
	}
	o.post.Post(name, chat.DeliveryData{MessageID: id, Code: code, Reason: comment})
}

// compactLocked drops finished IDs from order, so a long session does not
// grow it without bound.
func (o *Outbox) compactLocked() {
	live := o.order[:0]
	for _, id := range o.order {
		if _, ok := o.states[id]; ok {
			live = append(live, id)
		}
	}
	clear(o.order[len(live):])
	o.order = live
}

// Close refuses further messages and reports every message still queued
// or waiting as not delivered, with code 0 and reason, in the order they
// were added. A second Close does nothing.
func (o *Outbox) Close(reason string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return
	}
	o.closed = true
	o.queue = nil
	for _, id := range o.order {
		o.finishLocked(id, 0, reason)
	}
	o.order = nil
}
