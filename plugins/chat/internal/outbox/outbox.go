package outbox

import (
	"cmp"
	"errors"
	"slices"
	"sync"

	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/chat"
	"github.com/sipstreams/sipstreams/sdk/msrp"
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

// maxSpans bounds the disjoint byte ranges remembered for one message: a
// peer reports in order, so its REPORTs merge into one range; one that
// scatters more than this many gets no more of them counted.
const maxSpans = 64

// span is a reported byte range, 1-based and inclusive.
type span struct{ start, end int64 }

// tracked is the delivery state of a tracked message.
type tracked struct {
	st state
	// size is the body's length in bytes, -1 until Sent tells it.
	size int64
	// spans are the byte ranges success REPORTs confirmed, sorted and
	// merged; reported says a success REPORT came at all (for an empty
	// body).
	spans    []span
	reported bool
}

// confirm adds a success REPORT's byte range.
func (t *tracked) confirm(r msrp.ByteRange) {
	end := r.End
	if end < 0 {
		end = r.Total // "start-*/total"
	}
	if r.Start < 1 {
		return
	}
	t.reported = true
	if end < r.Start {
		return // an empty range, as for an empty body
	}
	merged := make([]span, 0, len(t.spans)+1)
	cur := span{r.Start, end}
	placed := false
	for _, s := range t.spans {
		switch {
		case s.end+1 < cur.start:
			merged = append(merged, s)
		case cur.end+1 < s.start:
			if !placed {
				merged = append(merged, cur)
				placed = true
			}
			merged = append(merged, s)
		default:
			cur = span{min(cur.start, s.start), max(cur.end, s.end)}
		}
	}
	if !placed {
		merged = append(merged, cur)
		slices.SortFunc(merged, func(a, b span) int { return cmp.Compare(a.start, b.start) })
	}
	if len(merged) <= maxSpans {
		t.spans = merged
	}
}

// confirmed reports whether success REPORTs covered every byte.
func (t *tracked) confirmed() bool {
	switch {
	case t.size < 0 || !t.reported:
		return false
	case t.size == 0:
		return true
	}
	return len(t.spans) > 0 && t.spans[0].start <= 1 && t.spans[0].end >= t.size
}

// Outbox is the queue and the delivery book-keeping of one stream.
type Outbox struct {
	post  sdk.Notifier
	ready chan struct{}

	mu     sync.Mutex
	queue  []Item
	states map[string]*tracked // tracked messages without an outcome yet
	order  []string            // IDs in the order added, for Close
	closed bool
}

// New returns an empty Outbox posting to post.
func New(post sdk.Notifier) *Outbox {
	return &Outbox{post: post, ready: make(chan struct{}, 1), states: map[string]*tracked{}}
}

// Add queues it; after Close it fails with ErrClosed.
func (o *Outbox) Add(it Item) error { return o.AddAll([]Item{it}) }

// AddAll queues items in order, with nothing of another call between
// them; after Close it fails with ErrClosed and queues none.
func (o *Outbox) AddAll(items []Item) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return ErrClosed
	}
	o.queue = append(o.queue, items...)
	for _, it := range items {
		if it.Track {
			o.states[it.ID] = &tracked{st: queued, size: -1}
			o.order = append(o.order, it.ID)
		}
	}
	if len(o.order) > 64 && len(o.order) > 2*len(o.states) {
		o.compactLocked()
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
	if t, ok := o.states[it.ID]; ok {
		t.st = sending
	}
	return it, true
}

// Len returns the number of queued items.
func (o *Outbox) Len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.queue)
}

// Sent records that id was handed to the connection with a body of size
// bytes, which success REPORTs must cover for it to be delivered.
func (o *Outbox) Sent(id string, size int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sentLocked(id)
	if t, ok := o.states[id]; ok {
		t.size = size
		if t.confirmed() {
			o.finishLocked(id, msrp.StatusOK, "OK")
		}
	}
}

func (o *Outbox) sentLocked(id string) {
	if t, ok := o.states[id]; ok && t.st < sent {
		t.st = sent
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

// Report records a REPORT about the bytes rng of id; it returns false
// when id is not a message waiting for its outcome. A failure status is
// final; a success counts once success REPORTs cover every byte of the
// message (a peer may confirm it chunk by chunk, or confirm one part and
// refuse the rest).
func (o *Outbox) Report(id string, rng msrp.ByteRange, code int, comment string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	t, ok := o.states[id]
	if !ok {
		return false
	}
	o.sentLocked(id)
	if code != msrp.StatusOK {
		o.finishLocked(id, code, comment)
		return true
	}
	t.confirm(rng)
	if t.confirmed() {
		o.finishLocked(id, code, comment)
	}
	return true
}

// finishLocked posts the final notification of id, once.
func (o *Outbox) finishLocked(id string, code int, comment string) {
	if _, ok := o.states[id]; !ok {
		return
	}
	delete(o.states, id)
	name := chat.DidNotDeliverMessage
	if code == msrp.StatusOK {
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
