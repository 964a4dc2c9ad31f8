package session

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sipstreams/sipstreams/framework/engine"
)

// inbox is a session's queue of messages to its loop. It is unbounded, so
// that whoever posts — a SIP handler, a plugin's notification pump, a
// timer, an API call — never waits for the session.
type inbox struct {
	mu     sync.Mutex
	tasks  []task
	closed bool
	ready  chan struct{} // holds a token while tasks wait
}

// task is a message to the loop; drop, if set, runs instead when the loop
// exits before handling it (a response that still needs its ACK).
type task struct {
	run, drop func()
}

func newInbox() *inbox { return &inbox{ready: make(chan struct{}, 1)} }

// push queues f for the loop; false once the loop has exited.
func (q *inbox) push(f func()) bool { return q.pushOr(f, nil) }

// pushOr queues f for the loop; if the loop exits before it runs f, or
// has exited already (false), drop runs instead.
func (q *inbox) pushOr(f, drop func()) bool {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		if drop != nil {
			drop()
		}
		return false
	}
	q.tasks = append(q.tasks, task{f, drop})
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return true
}

// next returns the oldest task, if any.
func (q *inbox) next() (func(), bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.tasks) == 0 {
		return nil, false
	}
	t := q.tasks[0]
	q.tasks[0] = task{}
	q.tasks = q.tasks[1:]
	return t.run, true
}

// close refuses every later push and drops what is queued, running the
// drop of each.
func (q *inbox) close() {
	q.mu.Lock()
	q.closed = true
	left := q.tasks
	q.tasks = nil
	q.mu.Unlock()
	for _, t := range left {
		if t.drop != nil {
			t.drop()
		}
	}
}

// run is the session's loop: the one goroutine that owns its state. It
// handles one message at a time until the session is terminated.
func (s *Session) run() {
	defer s.m.wg.Done()
	defer close(s.done)
	defer s.cancel()
	life := s.m.life.Done()
	for s.state != StateTerminated {
		select {
		case <-s.q.ready:
		case <-life:
			life = nil
			s.abort()
			continue
		}
		for s.state != StateTerminated {
			f, ok := s.q.next()
			if !ok {
				break
			}
			f()
		}
	}
	s.q.close()
	s.stopTimers()
	s.waits = nil
	s.stopAckWait()
	s.m.remove(s)
}

// do runs f on the loop and returns its result: the public methods are
// calls that return once the loop has acted on them.
func (s *Session) do(call string, f func() error) error {
	reply := make(chan error, 1)
	if !s.q.push(func() { reply <- f() }) {
		return &IllegalStateError{Call: call, State: StateTerminated}
	}
	select {
	case err := <-reply:
		return err
	case <-s.done:
		select {
		case err := <-reply:
			return err
		default:
			return &IllegalStateError{Call: call, State: StateTerminated}
		}
	}
}

// after runs f on the loop once d has passed (unless the timer is stopped
// first; f must still check that what it times is current). The timers
// still pending when the session terminates are stopped, so that none
// keeps it alive.
func (s *Session) after(d time.Duration, f func()) *time.Timer {
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		s.q.push(func() {
			delete(s.timers, t)
			f()
		})
	})
	s.timers[t] = struct{}{}
	return t
}

// stopTimers stops every pending timer of the session.
func (s *Session) stopTimers() {
	for t := range s.timers {
		t.Stop()
	}
	clear(s.timers)
}

// later defers f until the operation in progress is over: the loop runs
// deferred messages, in order, as soon as the session is idle again.
func (s *Session) later(f func()) { s.deferred = append(s.deferred, f) }

// idle ends the current operation and runs what waited for it, in order:
// a deferred message may start a new operation, and the rest then wait
// for that one. A message that defers itself again waits for the next
// idle.
func (s *Session) idle() {
	s.op = nil
	pending := s.deferred
	s.deferred = nil
	for i, f := range pending {
		if s.op != nil || s.state == StateTerminated {
			s.deferred = append(pending[i:], s.deferred...)
			return
		}
		f()
	}
}

// busy tells whether an offer/answer or the session's start or end is in
// progress, or one of our re-INVITEs waits to be sent again after glare.
func (s *Session) busy() bool { return s.op != nil || s.retrying != nil }

// ---------------------------------------------------------------- requests

// errNoFinal is a transaction that ended without a final response.
var errNoFinal = errors.New("session: no final response")

// txEvents receive, on the loop, what happens to a request of ours.
type txEvents struct {
	// sent reports whether the request went out (its transaction).
	sent func(tx sip.ClientTransaction, err error)
	// response is called for each response, the final one last.
	response func(res *sip.Response)
	// failed is called instead of a final response: timeout, transport
	// error, or ctx ended.
	failed func(err error)
	// orphan, if set, takes a final response that comes once the
	// session's loop has exited (a 2xx still needs its ACK); it runs on
	// the sending goroutine. Such a request is followed to its final
	// response whatever becomes of the session.
	orphan func(res *sip.Response)
}

// send sends req over route from a goroutine of its own (a TCP or TLS
// connect may take a while: the loop never waits for the network) and
// delivers its outcome to the loop through ev. The goroutine ends with
// the transaction or with ctx.
func (s *Session) send(ctx context.Context, req *sip.Request, route engine.Route, ev txEvents) {
	sig := s.m.cfg.Signalling
	s.m.wg.Add(1)
	go func() {
		defer s.m.wg.Done()
		tx, err := sig.Request(ctx, req, route)
		alive := s.q.push(func() {
			if ev.sent != nil {
				ev.sent(tx, err)
			}
		})
		if err != nil {
			return
		}
		if !alive && ev.orphan == nil {
			tx.Terminate()
			return
		}
		defer tx.Terminate()
		deliver := func(f func()) bool {
			alive = alive && s.q.push(f)
			return alive
		}
		// A request followed for a late answer (orphan) that never had
		// any, from a session that has ended, is not waited for once the
		// manager closes: a peer that swallows everything would hold
		// Close until Timer B. One that answered something is still
		// followed, its 2xx being owed an ACK and a BYE.
		var closing, ended <-chan struct{}
		if ev.orphan != nil {
			closing = s.m.closing
		}
		answered := false
		for {
			select {
			case <-closing:
				closing, ended = nil, s.done
				continue
			case <-ended:
				if !answered {
					return
				}
				ended = nil
				continue
			case res := <-tx.Responses():
				if res == nil {
					continue
				}
				answered = true
				var orphan func()
				if res.StatusCode >= 200 && ev.orphan != nil {
					orphan = func() { ev.orphan(res) }
				}
				if alive {
					alive = s.q.pushOr(func() {
						if ev.response != nil {
							ev.response(res)
						}
					}, orphan)
				} else if orphan != nil {
					orphan()
				}
				if res.StatusCode >= 200 {
					return
				}
			case <-tx.Done():
				err := tx.Err()
				if err == nil {
					err = errNoFinal
				}
				if ev.failed != nil {
					deliver(func() { ev.failed(err) })
				}
				return
			case <-ctx.Done():
				if ev.failed != nil {
					deliver(func() { ev.failed(ctx.Err()) })
				}
				return
			}
		}
	}()
}

// fireAndForget sends req (a CANCEL, a BYE after a failure) without
// waiting for its outcome: its transaction runs to its end, bounded by
// timeout and the manager's life, even after the session's loop has
// exited.
func (s *Session) fireAndForget(req *sip.Request, route engine.Route, timeout time.Duration) {
	s.fireAfter(nil, req, route, timeout)
}

// fireAfter is fireAndForget sending req once prev (if not nil) is
// closed; the channel it returns is closed once req's transaction ended
// (or was given up).
func (s *Session) fireAfter(prev <-chan struct{}, req *sip.Request, route engine.Route, timeout time.Duration) <-chan struct{} {
	sig := s.m.cfg.Signalling
	done := make(chan struct{})
	s.m.wg.Add(1)
	go func() {
		defer s.m.wg.Done()
		defer close(done)
		if prev != nil {
			select {
			case <-prev:
			case <-s.m.life.Done():
				return
			}
		}
		ctx, cancel := context.WithTimeout(s.m.life, timeout)
		defer cancel()
		tx, err := sig.Request(ctx, req, route)
		if err != nil {
			s.m.log.Debug("request not sent", "method", req.Method, "error", err)
			return
		}
		defer tx.Terminate()
		for {
			select {
			case res := <-tx.Responses():
				if res != nil && res.StatusCode >= 200 {
					return
				}
			case <-tx.Done():
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return done
}

// serverReq is a request of the peer that the loop answers. The engine's
// handler goroutine waits until it got its final response (sipgo ends
// the transaction when the handler returns).
type serverReq struct {
	req      *sip.Request
	tx       sip.ServerTransaction
	answered atomic.Bool // a final response was sent (or sipgo sent one)
	finished chan struct{}
	once     sync.Once
	// cancel is what a CANCEL of the request runs until its final
	// response (see onCancel).
	cancel atomic.Pointer[func()]
	// setup is a new INVITE's admission (overload.go); nil for others.
	setup *setup
}

// onCancel registers f to run when the peer cancels r (sipgo answers the
// CANCEL and 487), and reports whether r was cancelled already. sipgo
// keeps a server transaction, and the callbacks registered on it, for
// 64·T1 after its final response (RFC 6026's Timer L after a 2xx, Timer
// H after a non-2xx): the callback reaches f only through r, and the
// final response clears it, so that the session f belongs to is not kept
// alive those 32 s with everything it references (at 1,000 calls/s,
// 190 MB of finished sessions).
func (r *serverReq) onCancel(f func()) bool {
	r.cancel.Store(&f)
	return r.tx.OnCancel(func(*sip.Request) {
		if f := r.cancel.Load(); f != nil {
			(*f)()
		}
	})
}

// final marks r answered with a final response; it reports false when it
// had been already. A CANCEL no longer reaches the session.
func (r *serverReq) final() bool {
	if !r.answered.CompareAndSwap(false, true) {
		return false
	}
	r.cancel.Store(nil)
	return true
}

// release lets the handler return: the transaction may end.
func (r *serverReq) release() { r.once.Do(func() { close(r.finished) }) }

func newServerReq(req *sip.Request, tx sip.ServerTransaction) *serverReq {
	return &serverReq{req: req, tx: tx, finished: make(chan struct{})}
}

// respond sends a response to r; a final one releases the handler. A
// second final response is not sent.
func (s *Session) respond(r *serverReq, code int, reason string, body []byte, hdrs ...sip.Header) {
	if code < 200 {
		if !r.answered.Load() {
			_ = s.m.cfg.Signalling.Respond(r.tx, r.req, code, reason, body, hdrs...)
		}
		return
	}
	s.respondHeld(r, code, reason, body, hdrs...)
	r.release()
}

// respondHeld sends a final response to r but keeps its transaction: the
// caller releases it (the ACK of a non-2xx comes through the transaction,
// which sipgo ends at once over TCP and TLS when the handler returns).
func (s *Session) respondHeld(r *serverReq, code int, reason string, body []byte, hdrs ...sip.Header) {
	if !r.final() {
		return
	}
	if err := s.m.cfg.Signalling.Respond(r.tx, r.req, code, reason, body, hdrs...); err != nil {
		s.m.log.Debug("response not sent", "code", code, "method", r.req.Method, "error", err)
	}
}

// ---------------------------------------------------------------- 2xx and ACK

// ackWait is our 2xx to an INVITE waiting for its ACK. Over UDP the 2xx
// is sent again at T1, 2·T1, … (at most T2 apart) until the ACK comes,
// which sipgo's transaction layer leaves to the UAS core (RFC 3261
// §13.3.1.4); after 64·T1 the ACK is given up on.
type ackWait struct {
	invite   *sip.Request
	body     []byte
	hdrs     []sip.Header
	interval time.Duration
	resend   *time.Timer
	giveUp   *time.Timer
	got      func(ack *sip.Request)
	missing  func()
}

// answer2xx sends 200 OK with body (an SDP answer or offer) to r and calls
// got with the ACK, or missing when none came. It reports whether the 200
// went out.
func (s *Session) answer2xx(r *serverReq, body []byte, got func(*sip.Request), missing func()) error {
	hdrs := []sip.Header{sip.NewHeader("Content-Type", "application/sdp")}
	if s.localFocus {
		hdrs = append(hdrs, s.contact())
	}
	for _, h := range s.extra {
		hdrs = append(hdrs, sip.HeaderClone(h))
	}
	if !r.final() {
		return errors.New("session: the request was answered already")
	}
	err := s.m.cfg.Signalling.Respond(r.tx, r.req, 200, "OK", body, hdrs...)
	r.release()
	if err != nil {
		return err
	}
	t1 := s.m.cfg.timerT1()
	w := &ackWait{invite: r.req, body: body, hdrs: hdrs, interval: t1, got: got, missing: missing}
	s.stopAckWait()
	s.ack = w
	if !reliable(r.req) {
		w.resend = s.after(t1, func() { s.resend2xx(w) })
	}
	w.giveUp = s.after(64*t1, func() {
		if s.ack != w {
			return
		}
		s.stopAckWait()
		w.missing()
	})
	return nil
}

// reliable tells whether req came over a reliable transport.
func reliable(req *sip.Request) bool {
	t := req.Transport()
	return t != "" && t != "UDP" && t != "udp"
}

func (s *Session) resend2xx(w *ackWait) {
	if s.ack != w {
		return
	}
	// Stateless: the transaction ended with the first 2xx.
	_ = s.m.cfg.Signalling.Respond(nil, w.invite, 200, "OK", w.body, w.hdrs...)
	w.interval = min(2*w.interval, 4*time.Second)
	w.resend = s.after(w.interval, func() { s.resend2xx(w) })
}

func (s *Session) stopAckWait() {
	if s.ack == nil {
		return
	}
	s.stopTimer(s.ack.resend)
	s.stopTimer(s.ack.giveUp)
	s.ack = nil
}

// gotAck takes the ACK of our 2xx (one of the same CSeq); others are
// ignored (a retransmission, or the ACK of a non-2xx handled by sipgo).
func (s *Session) gotAck(ack *sip.Request) {
	w := s.ack
	if w == nil || ack.CSeq() == nil || w.invite.CSeq() == nil || ack.CSeq().SeqNo != w.invite.CSeq().SeqNo {
		return
	}
	s.stopAckWait()
	w.got(ack)
}
