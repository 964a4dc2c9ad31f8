package iscomposing

import "time"

// Timing defaults of RFC 3994.
const (
	// DefaultIdleTimeout is how long after the last keystroke the composer
	// goes idle (§3.2).
	DefaultIdleTimeout = 15 * time.Second
	// DefaultRefresh is the refresh interval of an active state, and what a
	// receiver assumes when an active document has no refresh (§3.3).
	DefaultRefresh = 120 * time.Second
)

// Option configures a Sender or a Receiver.
type Option func(*config)

type config struct {
	now         func() time.Time
	idleTimeout time.Duration
	refresh     time.Duration
	contentType string
}

func newConfig(opts []Option) config {
	c := config{now: time.Now, idleTimeout: DefaultIdleTimeout, refresh: DefaultRefresh, contentType: "text"}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// WithClock makes the state machine read the time from now instead of
// time.Now; tests pass a fake clock.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithIdleTimeout sets how long a Sender stays active without typing.
// Values of zero or less keep the default.
func WithIdleTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.idleTimeout = d
		}
	}
}

// WithRefresh sets the refresh interval a Sender announces, rounded up to
// whole seconds. Values of zero or less keep the default.
func WithRefresh(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.refresh = (d + time.Second - 1).Truncate(time.Second)
		}
	}
}

// WithContentType sets the contenttype a Sender announces ("text" by default).
func WithContentType(t string) Option { return func(c *config) { c.contentType = t } }

// Sender is the composing state of the local user (RFC 3994 §3.2). Its
// methods return the document to send, or nil when nothing is to be sent.
// It is not safe for concurrent use; its owner serialises calls.
type Sender struct {
	cfg        config
	state      State
	lastActive time.Time
	idleAt     time.Time // when an active state turns idle
	refreshAt  time.Time // when an active state must be refreshed
}

// NewSender returns a Sender in the idle state.
func NewSender(opts ...Option) *Sender {
	return &Sender{cfg: newConfig(opts), state: StateIdle}
}

// State returns the current state.
func (s *Sender) State() State { return s.state }

// Typed records composing activity. Going from idle to active returns the
// active document to send; while already active it returns nil, unless the
// refresh is due.
func (s *Sender) Typed() *Document {
	now := s.cfg.now()
	s.lastActive = now
	s.idleAt = now.Add(s.cfg.idleTimeout)
	if s.state == StateActive && now.Before(s.refreshAt) {
		return nil
	}
	s.state = StateActive
	return s.active(now)
}

// Sent records that the message itself was sent: the state becomes idle
// with no indication, since the message says so (§3.2).
func (s *Sender) Sent() {
	s.state = StateIdle
	s.idleAt, s.refreshAt = time.Time{}, time.Time{}
}

// Tick applies the timers at the current time: it returns the idle
// document once the idle timeout has passed, a refreshed active document
// once the refresh interval has, and otherwise nil.
func (s *Sender) Tick() *Document {
	if s.state != StateActive {
		return nil
	}
	now := s.cfg.now()
	switch {
	case !now.Before(s.idleAt):
		s.state = StateIdle
		s.idleAt, s.refreshAt = time.Time{}, time.Time{}
		return &Document{State: StateIdle, LastActive: s.lastActive, ContentType: s.cfg.contentType}
	case !now.Before(s.refreshAt):
		return s.active(now)
	}
	return nil
}

// Next returns when Tick must next be called, or the zero Time when idle.
func (s *Sender) Next() time.Time {
	if s.state != StateActive {
		return time.Time{}
	}
	if s.refreshAt.Before(s.idleAt) {
		return s.refreshAt
	}
	return s.idleAt
}

func (s *Sender) active(now time.Time) *Document {
	s.refreshAt = now.Add(s.cfg.refresh)
	return &Document{State: StateActive, ContentType: s.cfg.contentType, Refresh: int(s.cfg.refresh / time.Second)}
}

// Receiver is the composing state of the remote user as the indications
// tell it (RFC 3994 §3.3). Its methods report whether the state changed.
// It is not safe for concurrent use; its owner serialises calls.
type Receiver struct {
	cfg       config
	state     State
	last      Document
	expiresAt time.Time
}

// NewReceiver returns a Receiver in the idle state. Only WithClock matters
// to it.
func NewReceiver(opts ...Option) *Receiver {
	return &Receiver{cfg: newConfig(opts), state: StateIdle}
}

// State returns the remote's current state.
func (r *Receiver) State() State { return r.state }

// Last returns the last document received.
func (r *Receiver) Last() Document { return r.last }

// Received applies an indication. An active state lasts for the document's
// refresh interval, or DefaultRefresh when it has none; a new indication
// restarts it.
func (r *Receiver) Received(d Document) bool {
	old := r.state
	r.last = d
	if d.State == StateActive {
		refresh := DefaultRefresh
		if d.Refresh > 0 {
			refresh = time.Duration(d.Refresh) * time.Second
		}
		r.state, r.expiresAt = StateActive, r.cfg.now().Add(refresh)
	} else {
		r.state, r.expiresAt = StateIdle, time.Time{}
	}
	return r.state != old
}

// MessageReceived records that a message arrived from the remote: its
// state becomes idle (§3.3).
func (r *Receiver) MessageReceived() bool {
	old := r.state
	r.state, r.expiresAt = StateIdle, time.Time{}
	return old != StateIdle
}

// Tick applies the refresh timer at the current time: an active state whose
// refresh interval has passed becomes idle.
func (r *Receiver) Tick() bool {
	if r.state == StateActive && !r.cfg.now().Before(r.expiresAt) {
		r.state, r.expiresAt = StateIdle, time.Time{}
		return true
	}
	return false
}

// Next returns when Tick must next be called, or the zero Time when idle.
func (r *Receiver) Next() time.Time { return r.expiresAt }
