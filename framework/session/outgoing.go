package session

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sipstreams/sipstreams/framework/engine"
	"github.com/sipstreams/sipstreams/sdk"
)

// cancelGrace is how long a CANCELled INVITE may stay without a final
// response before it is abandoned locally (a live peer answers 487 at
// once; RFC 3261 §9.1 lets the client give up).
const cancelGrace = 2 * time.Second

// phase is where an initial INVITE or a re-INVITE is.
type phase int

const (
	phaseOffered      phase = iota // incoming: waiting for Accept or Reject
	phaseInitializing              // streams initializing
	phaseInviting                  // our INVITE sent, waiting for its final response
	phaseWaitingAck                // our 2xx sent, waiting for the ACK
	phaseStarting                  // SDP agreed, streams starting
	phaseDeciding                  // a proposal of the peer, waiting for AcceptProposal/RejectProposal
)

// outgoingCall is the operation of an outgoing session until it started
// or failed: streams initializing, the INVITE over each route in turn,
// digest challenges, CANCEL, the answer, the streams starting.
type outgoingCall struct {
	routes   []engine.Route
	next     int // the route to try next
	streams  []Stream
	phase    phase
	req      *sip.Request
	tx       sip.ClientTransaction
	canceled bool   // End, or the invite timeout, asked for a CANCEL
	cause    string // the failure reason of a CANCELled call
	cancelTx bool   // the CANCEL was sent
	timeout  *time.Timer
	grace    *time.Timer
	answered map[string]bool // challenge nonces answered
	auth     []sip.Header    // credentials sent with every later INVITE
	lastErr  error
}

// Connect starts an outgoing session to `to` with streams (built with the
// registry's Create, or prepared by the embedding API), trying routes in
// order. It returns once the session took the call: SIPSessionNewOutgoing
// is posted now and the outcome later (SIPSessionDidStart or
// SIPSessionDidFail).
func (s *Session) Connect(ctx context.Context, to sip.Uri, routes []engine.Route, streams []Stream, subject string, opts ...ConnectOption) error {
	if len(streams) == 0 {
		return ErrNoStreams
	}
	if len(routes) == 0 {
		return fmt.Errorf("session: no route to %s", to.String())
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.do("connect", func() error {
		if err := s.require("connect", StateNone); err != nil {
			return err
		}
		var o connectOptions
		for _, opt := range opts {
			opt(&o)
		}
		for _, h := range o.headers {
			switch strings.ToLower(h.Name()) {
			case "to", "from", "via", "contact", "route", "record-route", "call-id", "cseq":
				return fmt.Errorf("session: connect: the session writes the %s header itself", h.Name())
			}
		}
		s.extra = o.headers
		s.publish(func() {
			s.localFocus = o.focus
			s.transferInfo = o.transfer
		})
		s.connect(to, routes, streams, subject)
		return nil
	})
}

func (s *Session) connect(to sip.Uri, routes []engine.Route, streams []Stream, subject string) {
	contact := s.m.cfg.Signalling.ContactFor(routes[0], s.localURI.User)
	s.origin.ip = strings.Trim(contact.Host, "[]")
	s.publish(func() {
		s.state = StateConnecting
		s.localIP = s.origin.ip
		s.remoteURI = to
		s.route = routes[0]
		s.subject = subject
		s.proposed = append([]Stream(nil), streams...)
	})
	for i, st := range streams {
		s.index[st] = i
	}
	s.observe(streams...)
	c := &outgoingCall{routes: routes, streams: streams, phase: phaseInitializing, answered: map[string]bool{}}
	s.op = c
	s.post(SIPSessionNewOutgoing, NewOutgoingData{Streams: streams})
	s.initialize(streams, Outgoing, func(ok []Stream, failed []streamFailure) { s.outgoingInitialized(c, ok, failed) })
}

func (s *Session) outgoingInitialized(c *outgoingCall, ok []Stream, failed []streamFailure) {
	if s.op != c {
		s.end(ok) // the call was given up meanwhile
		return
	}
	s.end(streamsOf(failed))
	if len(ok) == 0 {
		s.fail(Local, 0, "", "media stream did not initialize: "+failureList(failed), nil)
		return
	}
	c.streams = ok
	offer, err := s.buildOffer(ok)
	if err != nil {
		s.end(ok)
		s.fail(Local, 0, "", "SDP negotiation failed: "+err.Error(), nil)
		return
	}
	s.setStreams(nil, ok)
	c.phase = phaseInviting
	c.timeout = s.after(s.inviteTimeout(), func() {
		if s.op == c && c.phase == phaseInviting && !c.canceled {
			s.cancelCall(c, "timeout")
		}
	})
	s.tryRoute(c, offer)
}

// inviteFor builds our INVITE for route r.
func (s *Session) inviteFor(c *outgoingCall, r engine.Route, offer string) *sip.Request {
	req := s.newRequest(sip.INVITE, s.remoteURI)
	req.AppendHeader(s.contactFor(r))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	if s.subject != "" {
		req.AppendHeader(sip.NewHeader("Subject", s.subject))
	}
	for _, h := range s.extra {
		req.AppendHeader(sip.HeaderClone(h))
	}
	for _, h := range c.auth {
		req.AppendHeader(h)
	}
	req.SetBody([]byte(offer))
	return req
}

// tryRoute sends the INVITE over the next route; one that cannot be sent
// on moves on to the one after.
func (s *Session) tryRoute(c *outgoingCall, offer string) {
	if c.next >= len(c.routes) {
		s.end(c.streams)
		s.fail(Local, 0, "", fmt.Sprintf("SIP core error: %v", c.lastErr), nil)
		return
	}
	r := c.routes[c.next]
	c.next++
	req := s.inviteFor(c, r, offer)
	s.sendInvite(c, req, r, func(err error) {
		c.lastErr = err
		s.tryRoute(c, offer)
	})
}

// sendInvite sends one INVITE of the call; notSent is called when it
// could not be sent.
func (s *Session) sendInvite(c *outgoingCall, req *sip.Request, r engine.Route, notSent func(error)) {
	sig := s.m.cfg.Signalling
	s.send(s.m.life, req, r, txEvents{
		orphan: func(res *sip.Response) {
			// Answered after we gave the call up: the dialog exists, end it.
			if res.StatusCode < 300 {
				_ = sig.Write(ackFor(req, res), r)
				s.fireAndForget(byeFor(req, res), r, 2*ShortReinviteTimeout)
			}
		},
		sent: func(tx sip.ClientTransaction, err error) {
			if s.op != c {
				return
			}
			if err != nil {
				notSent(err)
				return
			}
			c.req, c.tx = req, tx
			s.invite = req
			s.publish(func() { s.route, s.peerAddress = r, r.String() })
			if c.canceled && !c.cancelTx {
				s.sendCancel(c)
			}
		},
		response: func(res *sip.Response) {
			if s.op == c && c.req == req {
				s.inviteResponse(c, res)
			}
		},
		failed: func(err error) {
			if s.op != c || c.req != req {
				return
			}
			s.end(c.streams)
			if c.canceled {
				s.fail(Local, 487, "Session Cancelled", c.cause, nil)
				return
			}
			s.fail(Local, 408, "Request Timeout", "timeout: "+err.Error(), nil)
		},
	})
}

func (s *Session) inviteResponse(c *outgoingCall, res *sip.Response) {
	switch {
	case res.StatusCode < 200:
		if ch := contactOf(res); ch != nil && isFocus(ch) {
			s.publish(func() { s.remoteFocus = true })
		}
		if res.StatusCode == 180 {
			s.post(SIPSessionGotRingIndication, nil)
		}
		if res.StatusCode > 100 {
			s.post(SIPSessionGotProvisionalResponse, ProvisionalResponseData{Code: res.StatusCode, Reason: res.Reason})
		}
	case res.StatusCode < 300:
		s.outgoingAnswered(c, res)
	default:
		if s.retryWithCredentials(c, res) {
			return
		}
		s.end(c.streams)
		if c.canceled && res.StatusCode == 487 {
			s.fail(Local, 487, "Session Cancelled", c.cause, nil)
			return
		}
		var redirects []string
		if res.StatusCode < 400 {
			for _, h := range res.GetHeaders("Contact") {
				redirects = append(redirects, h.Value())
			}
		}
		s.fail(Remote, res.StatusCode, res.Reason, res.Reason, redirects)
	}
}

// retryWithCredentials answers a 401 or 407 to the INVITE with the
// account's credentials: a new INVITE (same dialog identifiers, next CSeq)
// on the same route, carrying every answer so far. It reports false when
// the challenge is not answerable (no credentials, a nonce answered
// before: the credentials were refused).
func (s *Session) retryWithCredentials(c *outgoingCall, res *sip.Response) bool {
	if c.canceled || s.acc == nil || (res.StatusCode != sip.StatusUnauthorized && res.StatusCode != sip.StatusProxyAuthRequired) {
		return false
	}
	h, err := engine.AnswerChallenge(c.req, res, s.acc.Credentials, c.answered)
	if err != nil {
		s.m.log.Info("INVITE challenge not answered", "code", res.StatusCode, "error", err)
		return false
	}
	kept := c.auth[:0]
	for _, x := range c.auth {
		if !strings.EqualFold(x.Name(), h.Name()) {
			kept = append(kept, x)
		}
	}
	c.auth = append(kept, h)
	r := s.route
	req := s.inviteFor(c, r, s.localSDP)
	c.req, c.tx = req, nil
	s.sendInvite(c, req, r, func(err error) {
		s.end(c.streams)
		s.fail(Local, 0, "", fmt.Sprintf("SIP core error: %v", err), nil)
	})
	return true
}

// cancelCall gives up the call before its answer: a CANCEL once the
// INVITE is out, and the call is abandoned if no final response follows
// within cancelGrace.
func (s *Session) cancelCall(c *outgoingCall, cause string) {
	if c.canceled {
		return
	}
	c.canceled, c.cause = true, cause
	if c.tx != nil {
		s.sendCancel(c)
	}
	c.grace = s.after(cancelGrace+s.m.cfg.timerT1(), func() {
		if s.op != c || c.phase != phaseInviting {
			return
		}
		s.end(c.streams)
		s.fail(Local, 487, "Session Cancelled", c.cause, nil)
	})
}

// sendCancel cancels our pending INVITE (RFC 3261 §9.1).
func (s *Session) sendCancel(c *outgoingCall) {
	c.cancelTx = true
	s.fireAndForget(cancelFor(c.req), s.route, ShortReinviteTimeout)
}

// cancelFor builds the CANCEL of an INVITE that was sent.
func cancelFor(inv *sip.Request) *sip.Request {
	c := sip.NewRequest(sip.CANCEL, inv.Recipient)
	c.AppendHeader(sip.HeaderClone(inv.Via()))
	c.AppendHeader(sip.HeaderClone(inv.From()))
	c.AppendHeader(sip.HeaderClone(inv.To()))
	c.AppendHeader(sip.HeaderClone(inv.CallID()))
	c.AppendHeader(&sip.CSeqHeader{SeqNo: inv.CSeq().SeqNo, MethodName: sip.CANCEL})
	return c
}

// ackFor is the ACK of a 2xx to our INVITE inv, built from the two
// messages alone (the session may be gone).
func ackFor(inv *sip.Request, res *sip.Response) *sip.Request {
	return inDialogFor(sip.ACK, inv, res, inv.CSeq().SeqNo)
}

// byeFor is a BYE for the dialog a 2xx to inv made.
func byeFor(inv *sip.Request, res *sip.Response) *sip.Request {
	return inDialogFor(sip.BYE, inv, res, inv.CSeq().SeqNo+1)
}

func inDialogFor(method sip.RequestMethod, inv *sip.Request, res *sip.Response, cseq uint32) *sip.Request {
	target := inv.Recipient
	if c := contactOf(res); c != nil {
		target = c.Address
	}
	req := sip.NewRequest(method, target)
	req.AppendHeader(sip.HeaderClone(inv.From()))
	req.AppendHeader(sip.HeaderClone(res.To()))
	req.AppendHeader(sip.HeaderClone(inv.CallID()))
	req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: method})
	return req
}

// sendAck acknowledges a 2xx to our INVITE inv.
func (s *Session) sendAck(inv *sip.Request) {
	a := s.newRequest(sip.ACK, s.remoteTarget)
	a.ReplaceHeader(&sip.CSeqHeader{SeqNo: inv.CSeq().SeqNo, MethodName: sip.ACK})
	if err := s.m.cfg.Signalling.Write(a, s.route); err != nil {
		s.m.log.Warn("ACK not sent", "error", err)
	}
}

func (s *Session) outgoingAnswered(c *outgoingCall, res *sip.Response) {
	s.stopTimer(c.timeout)
	s.stopTimer(c.grace)
	s.publish(func() {
		if to := res.To(); to != nil {
			s.remoteTag, _ = to.Params.Get("tag")
		}
		s.remoteTarget = s.remoteURI
		s.responseHeaders = headersOf(res)
	})
	s.learnRemote(res)
	s.sendAck(c.req)
	if c.canceled {
		// The 200 crossed our CANCEL: the call exists, end it (reference §2.2).
		s.end(c.streams)
		s.byeAndForget()
		s.fail(Local, 487, "Session Cancelled", c.cause, nil)
		return
	}
	answerText := string(res.Body())
	if err := s.checkAnswerText(answerText); err != nil {
		s.end(c.streams)
		s.byeAndForget()
		s.fail(Local, 0, "", "SDP negotiation failed: "+err.Error(), nil)
		return
	}
	s.remoteSDP = answerText
	s.post(SIPSessionWillStart, nil)
	accepted, refused := s.splitByAnswer(c.streams, answerText)
	s.end(refused)
	c.phase = phaseStarting
	c.streams = accepted
	s.setStreams(nil, accepted)
	code, reason := res.StatusCode, res.Reason
	s.start(accepted, s.localSDP, answerText, func(failed []streamFailure) {
		if s.op == c {
			s.started(accepted, failed, ProcessTransactionData{Originator: Local, Method: "INVITE", Code: code, Reason: reason})
		}
	})
}

// started completes the session's start once its streams started (or
// some failed): connected, SIPSessionDidProcessTransaction (tx), then
// SIPSessionDidStart; a stream that failed fails the session with a BYE
// saying why (reference §2.3).
func (s *Session) started(accepted []Stream, failed []streamFailure, tx ProcessTransactionData) {
	if len(failed) > 0 || len(accepted) == 0 {
		s.end(accepted)
		s.byeAndForget(mediaFailedReason)
		reason := "no stream was accepted"
		if len(failed) > 0 {
			reason = fmt.Sprintf("%s media stream failed: %s", failed[0].Stream.Type(), failed[0].Reason)
		}
		s.fail(Local, 0, "", reason, nil)
		return
	}
	s.publish(func() {
		s.streams, s.proposed = accepted, nil
		s.state = StateConnected
		s.startTime = time.Now()
	})
	s.post(SIPSessionDidProcessTransaction, tx)
	s.post(SIPSessionDidStart, DidStartData{Streams: accepted})
	if old := s.replaced; old != nil {
		// The new session replaces old (RFC 3891 §3): end it now.
		old.q.push(func() { old.endLocal("") })
	}
	s.focusStarted()
	s.idle()
}

// mediaFailedReason is the Reason of our BYE when the streams did not
// start (reference §2.5).
const mediaFailedReason = `SIP;cause=500;text="media stream failed to start"`

// checkAnswerText checks an SDP answer against our last offer.
func (s *Session) checkAnswerText(answerText string) error {
	answer, err := sdk.ParseSDP(answerText)
	if err != nil {
		return err
	}
	offer, err := sdk.ParseSDP(s.localSDP)
	if err != nil {
		return err
	}
	return checkAnswer(offer, answer)
}

// splitByAnswer separates the streams whose m-line the answer accepts
// from those it refuses (port 0).
func (s *Session) splitByAnswer(streams []Stream, answerText string) (accepted, refused []Stream) {
	answer, err := sdk.ParseSDP(answerText)
	if err != nil {
		return nil, streams
	}
	for _, st := range streams {
		if mediaPort(answer, s.index[st]) == 0 {
			refused = append(refused, st)
		} else {
			accepted = append(accepted, st)
		}
	}
	return accepted, refused
}

// fail ends a session that never started: SIPSessionDidFail.
func (s *Session) fail(orig Originator, code int, reason, failure string, redirects []string) {
	s.terminate()
	s.post(SIPSessionDidFail, DidFailData{Originator: orig, Code: code, Reason: reason, FailureReason: failure, RedirectIdentities: redirects})
}

// terminate moves to terminated: the loop exits after this message.
func (s *Session) terminate() {
	s.closeSubDialogs()
	s.op = nil
	s.deferred = nil
	s.stopAckWait()
	s.publish(func() {
		s.state = StateTerminated
		s.endTime = time.Now()
		s.proposed = nil
	})
	s.m.remove(s)
}

// byeAndForget sends a BYE (with a Reason header when reason is given)
// without waiting for its response.
func (s *Session) byeAndForget(reason ...string) {
	req := s.newRequest(sip.BYE, s.remoteTarget)
	for _, r := range reason {
		req.AppendHeader(sip.NewHeader("Reason", r))
	}
	s.fireAndForget(req, s.route, 2*ShortReinviteTimeout)
}

// stopTimer stops a timer of after.
func (s *Session) stopTimer(t *time.Timer) {
	if t != nil {
		t.Stop()
		delete(s.timers, t)
	}
}

// errCanceled is the outcome of a re-INVITE we CANCELled.
var errCanceled = errors.New("session: request cancelled")
