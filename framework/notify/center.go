package notify

import (
	"context"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"time"
)

// Notification is one posted event.
type Notification struct {
	// Name identifies the event, verbatim from the reference implementation
	// (for example "SIPSessionDidStart").
	Name string
	// Sender is the object the event is about. It is compared with ==; nil
	// means "no particular sender".
	Sender any
	// Time is when the notification was posted. Post sets it if it is zero.
	Time time.Time
	// Data is the payload: a typed struct specific to Name, or nil.
	Data any
}

// Observer receives notifications.
type Observer interface {
	HandleNotification(Notification)
}

// IdleObserver is an Observer that wants to know when its queue is empty:
// Idle is called on the delivery goroutine after the last notification
// queued for it was handled, before it waits for more, and before a
// [Center.Flush] that reaches it returns. An observer that buffers what it
// does with notifications (a writer of lines) completes it there, once per
// burst instead of once per notification.
type IdleObserver interface {
	Observer
	Idle()
}

// NameFilter is an Observer that takes only some notification names:
// whatever the subscription's name, it is handed only the notifications
// whose name Wants accepts. Wants is asked when a notification is posted,
// so the others cost the subscription nothing (no queueing, no wake-up of
// its goroutine); it must be fast, must not block and must be safe for
// concurrent use.
type NameFilter interface {
	Observer
	Wants(name string) bool
}

// ObserverFunc adapts an ordinary function to the [Observer] interface.
type ObserverFunc func(Notification)

// HandleNotification calls f(n).
func (f ObserverFunc) HandleNotification(n Notification) { f(n) }

// Option configures a [Center] created by [New].
type Option func(*config)

type config struct {
	logger *slog.Logger
}

// WithLogger sets the logger used to report observers that panic. Without it
// (or with a nil logger) such reports are discarded.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}

// Center dispatches posted notifications to subscribed observers.
//
// The zero value is not usable; create centers with [New]. A Center is safe
// for concurrent use by multiple goroutines.
type Center struct {
	logger *slog.Logger

	mu     sync.Mutex
	subs   []*subscription // guarded by mu
	closed bool            // guarded by mu

	wg   sync.WaitGroup // one count per delivery goroutine
	done chan struct{}  // closed when Close has finished
}

// New returns a new, empty notification center.
func New(opts ...Option) *Center {
	cfg := config{logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	return &Center{logger: cfg.logger, done: make(chan struct{})}
}

var (
	defaultOnce   sync.Once
	defaultCenter *Center
)

// Default returns the process-wide notification center, creating it on first
// use. It plays the role of the reference implementation's singleton
// NotificationCenter(). It is never closed implicitly; code that can be
// handed a *Center should prefer an explicit one (see [New]).
func Default() *Center {
	defaultOnce.Do(func() { defaultCenter = New() })
	return defaultCenter
}

// Post queues n for delivery to every matching subscription and returns
// without waiting for any observer. It never blocks on observers and never
// drops a notification. If n.Time is zero it is set to the current time.
//
// Notifications are delivered to each subscription in the order in which
// concurrent Post calls acquired the center's lock; notifications posted by a
// single goroutine are therefore delivered in the order of its calls.
//
// After [Center.Close] has been called, Post does nothing.
func (c *Center) Post(n Notification) {
	if n.Time.IsZero() {
		n.Time = time.Now()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	for _, s := range c.subs {
		if s.matches(&n) {
			s.push(item{n: n})
		}
	}
}

// Subscribe registers o for notifications matching name and sender, where
// name "" matches any name and a nil sender matches any sender. The
// subscription receives only notifications posted after Subscribe returns.
//
// Subscribing the same observer several times creates independent
// subscriptions, each delivering its own copy of matching notifications.
//
// The returned function cancels the subscription. It is idempotent and may
// be called from any goroutine, including from within o's own
// HandleNotification. Once it returns, o is not handed any further
// notification by this subscription; a delivery already in progress in the
// subscription's goroutine (when unsubscribe is called from elsewhere) may
// still complete. Unsubscribe does not wait for that; the subscription's
// goroutine exits as soon as it is done.
//
// Subscribing to a closed center does nothing and returns a no-op function.
// Subscribe panics if o is nil.
func (c *Center) Subscribe(o Observer, name string, sender any) (unsubscribe func()) {
	if o == nil {
		panic("notify: Subscribe called with a nil Observer")
	}
	s := &subscription{
		center:   c,
		observer: o,
		name:     name,
		sender:   sender,
		signal:   make(chan struct{}, 1),
		exited:   make(chan struct{}),
	}
	if f, ok := o.(NameFilter); ok {
		s.wants = f.Wants
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return func() {}
	}
	c.subs = append(c.subs, s)
	c.wg.Go(s.run)
	c.mu.Unlock()

	var once sync.Once
	return func() { once.Do(s.unsubscribe) }
}

// Flush waits until every notification posted before Flush was called has
// been delivered to (handled by, or panicked in) every observer subscribed at
// that moment, or until ctx is done, in which case it returns ctx.Err().
// Subscriptions cancelled in the meantime count as delivered.
//
// Flush must not be called from within an observer of the same center: it
// would wait for the delivery in progress, i.e. for itself, until ctx ends.
func (c *Center) Flush(ctx context.Context) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		// Close delivers everything that was queued; wait for it.
		select {
		case <-c.done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	barriers := make([]chan struct{}, 0, len(c.subs))
	for _, s := range c.subs {
		b := make(chan struct{})
		s.push(item{barrier: b})
		barriers = append(barriers, b)
	}
	c.mu.Unlock()

	for _, b := range barriers {
		select {
		case <-b:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Close shuts the center down. It first delivers every notification already
// queued when Close is called (later Posts are no-ops, so the amount is
// bounded), then stops all delivery goroutines and waits for them to exit.
// A blocked observer therefore blocks Close.
//
// After Close, Post and Subscribe do nothing and Flush returns at once.
// Close is idempotent; concurrent calls all wait for the shutdown to finish.
// It must not be called from within an observer of the same center.
func (c *Center) Close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		<-c.done
		return
	}
	c.closed = true
	subs := c.subs
	c.subs = nil
	for _, s := range subs {
		s.drainAndExit()
	}
	c.mu.Unlock()

	c.wg.Wait()
	close(c.done)
}

// remove drops s from the subscription list.
func (c *Center) remove(s *subscription) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i := slices.Index(c.subs, s); i >= 0 {
		last := len(c.subs) - 1
		c.subs[i] = c.subs[last]
		c.subs[last] = nil
		c.subs = c.subs[:last]
	}
}

// item is one queue entry: a notification or a Flush barrier.
type item struct {
	n       Notification
	barrier chan struct{} // non-nil for a Flush barrier
}

// subscription is one Subscribe call: a filter, an unbounded FIFO queue and
// the goroutine delivering from it.
type subscription struct {
	center   *Center
	observer Observer
	name     string
	sender   any
	wants    func(name string) bool // the observer's NameFilter; nil: every name

	mu       sync.Mutex
	queue    []item // guarded by mu; live entries are queue[head:]
	head     int    // guarded by mu
	stopped  bool   // guarded by mu; unsubscribed: deliver nothing more
	draining bool   // guarded by mu; closing: deliver the queue, then exit

	signal chan struct{} // capacity 1; wakes the delivery goroutine
	exited chan struct{} // closed when the delivery goroutine returns
	dirty  bool          // delivery goroutine only: delivered since the last Idle
}

func (s *subscription) matches(n *Notification) bool {
	return (s.name == "" || s.name == n.Name) &&
		(s.wants == nil || s.wants(n.Name)) &&
		(s.sender == nil || equal(s.sender, n.Sender))
}

// equal reports whether a == b, treating comparisons that would panic
// (uncomparable dynamic types) as false.
func equal(a, b any) (eq bool) {
	defer func() {
		if recover() != nil {
			eq = false
		}
	}()
	return a == b
}

// maxIdleQueue is the most entries a drained queue keeps room for: a
// subscriber that fell behind during a burst of notifications (thousands
// of calls a second) grows its queue to the burst's size, which need not
// be kept once it has caught up.
const maxIdleQueue = 256

// push appends it to the queue and wakes the delivery goroutine.
func (s *subscription) push(it item) {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		if it.barrier != nil {
			close(it.barrier)
		}
		return
	}
	if s.head > 0 && len(s.queue) == cap(s.queue) {
		// Reclaim the consumed prefix instead of growing the array.
		n := copy(s.queue, s.queue[s.head:])
		clear(s.queue[n:])
		s.queue = s.queue[:n]
		s.head = 0
	}
	s.queue = append(s.queue, it)
	s.mu.Unlock()
	s.wake()
}

func (s *subscription) wake() {
	select {
	case s.signal <- struct{}{}:
	default:
	}
}

// pop returns the next queue entry, or ok=false when the goroutine must exit.
// Before it waits on an empty queue it tells an IdleObserver.
func (s *subscription) pop() (it item, ok bool) {
	for {
		s.mu.Lock()
		if s.stopped {
			s.mu.Unlock()
			if s.dirty {
				s.idle()
			}
			return item{}, false
		}
		if s.head < len(s.queue) {
			it = s.queue[s.head]
			s.queue[s.head] = item{}
			s.head++
			if s.head == len(s.queue) {
				s.queue = s.queue[:0]
				s.head = 0
				if cap(s.queue) > maxIdleQueue {
					// A burst grew it: let the array go with the burst
					// rather than hold it for the subscription's life.
					s.queue = nil
				}
			}
			s.mu.Unlock()
			return it, true
		}
		draining := s.draining
		s.mu.Unlock()
		if s.dirty {
			s.idle()
			continue // something may have come meanwhile
		}
		if draining {
			return item{}, false
		}
		<-s.signal
	}
}

// run is the subscription's delivery goroutine.
func (s *subscription) run() {
	defer close(s.exited)
	for {
		it, ok := s.pop()
		if !ok {
			return
		}
		if it.barrier != nil {
			if s.dirty {
				s.idle()
			}
			close(it.barrier)
			continue
		}
		s.deliver(it.n)
		s.dirty = true
	}
}

// idle tells an IdleObserver that its queue is empty.
func (s *subscription) idle() {
	s.dirty = false
	o, ok := s.observer.(IdleObserver)
	if !ok {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			s.center.logger.Error("notify: observer panicked in Idle",
				slog.Any("panic", r),
				slog.String("stack", string(debug.Stack())))
		}
	}()
	o.Idle()
}

func (s *subscription) deliver(n Notification) {
	defer func() {
		if r := recover(); r != nil {
			s.center.logger.Error("notify: observer panicked",
				slog.String("name", n.Name),
				slog.Any("panic", r),
				slog.String("stack", string(debug.Stack())))
		}
	}()
	s.observer.HandleNotification(n)
}

// unsubscribe stops delivery. It never waits for the delivery goroutine, so
// it is safe to call from within the observer.
func (s *subscription) unsubscribe() {
	s.center.remove(s)
	s.mu.Lock()
	s.stopped = true
	rest := s.queue[s.head:]
	s.queue, s.head = nil, 0
	s.mu.Unlock()
	// Pending Flush calls must not wait for a subscription that is gone.
	for _, it := range rest {
		if it.barrier != nil {
			close(it.barrier)
		}
	}
	s.wake()
}

// drainAndExit makes the delivery goroutine exit once its queue is empty.
func (s *subscription) drainAndExit() {
	s.mu.Lock()
	s.draining = true
	s.mu.Unlock()
	s.wake()
}
