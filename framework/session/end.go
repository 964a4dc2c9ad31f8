package session

import (
	"context"

	"github.com/emiago/sipgo/sip"
)

// ending is the operation of a session that sent its BYE.
type ending struct{}

func (*outgoingCall) operation()   {}
func (*incomingCall) operation()   {}
func (*localReinvite) operation()  {}
func (*remoteReinvite) operation() {}
func (*ending) operation()         {}

// End ends the session: CANCEL while connecting, BYE once connected, a 603
// while incoming; a no-op when already ending. A session still starting
// (its 2xx sent or received) ends right after it started.
func (s *Session) End() {
	_ = s.do("end", func() error {
		s.endLocal("")
		return nil
	})
}

// endLocal ends the session at our side's request; reason, if not empty,
// is DidEnd's end_reason (a stream failure).
func (s *Session) endLocal(reason string) {
	if reason != "" && s.endReason == "" {
		s.endReason = reason
	}
	switch s.state {
	case StateNone:
		s.terminate()
		s.post(SIPSessionDidFail, DidFailData{Originator: Local, Code: 487, Reason: "Session Cancelled", FailureReason: "user request"})
	case StateTerminating, StateTerminated:
	case StateConnecting:
		c := s.op.(*outgoingCall)
		switch c.phase {
		case phaseInitializing:
			// Nothing was sent yet.
			s.end(c.streams)
			s.fail(Local, 487, "Session Cancelled", "user request", nil)
		case phaseInviting:
			s.cancelCall(c, "user request")
		default:
			s.later(func() { s.endLocal(reason) })
		}
	case StateIncoming:
		s.reject(603, "Decline")
	case StateAccepting:
		s.later(func() { s.endLocal(reason) })
	default:
		s.abandon()
		s.bye()
	}
}

// abandon drops the offer/answer in progress because the session ends:
// the peer's pending request gets 487, a proposal is closed with
// SIPSessionHadProposalFailure("session ended"), streams not active yet
// are ended.
func (s *Session) abandon() {
	op := s.op
	s.op = nil
	s.deferred = nil
	s.stopAckWait()
	for _, w := range s.waits {
		s.stopTimer(w.timer)
	}
	s.waits = nil
	if lr := s.retrying; lr != nil {
		s.retrying = nil
		if lr.kind == kindAdd {
			s.end(lr.streams)
			s.proposalFailed(lr, Local, "session ended")
		}
	}
	switch op := op.(type) {
	case *localReinvite:
		s.stopTimer(op.timer)
		switch op.kind {
		case kindAdd:
			s.end(op.streams)
			s.proposalFailed(op, Local, "session ended")
		case kindRemove:
			s.end(op.streams)
		}
	case *remoteReinvite:
		s.stopTimer(op.timer)
		s.respond(op.r, 487, "Request Terminated", nil)
		s.end(op.removed)
		if op.proposed != nil {
			s.end(op.proposed)
			s.remoteProposalFailed(op, "session ended")
		}
	}
}

// bye ends a connected session: SIPSessionWillEnd, the streams
// deactivated, BYE, SIPSessionDidProcessTransaction with its response,
// SIPSessionDidEnd, the streams ended (§2.5).
func (s *Session) bye() {
	streams := s.streams
	s.op = &ending{}
	s.setState(StateTerminating)
	s.post(SIPSessionWillEnd, WillEndData{Originator: Local})
	s.deactivate(streams)
	req := s.newRequest(sip.BYE, s.remoteTarget)
	ctx, cancel := context.WithTimeout(s.ctx, 2*ShortReinviteTimeout)
	finish := func(code int, reason string) {
		cancel()
		if s.state == StateTerminated {
			return
		}
		s.post(SIPSessionDidProcessTransaction, ProcessTransactionData{Originator: Local, Method: "BYE", Code: code, Reason: reason})
		s.terminate()
		endReason := s.endReason
		if endReason == "" {
			endReason = "user request"
		}
		s.post(SIPSessionDidEnd, DidEndData{Originator: Local, EndReason: endReason})
		s.endDeactivated(streams)
	}
	s.send(ctx, req, s.route, txEvents{
		sent: func(_ sip.ClientTransaction, err error) {
			if err != nil {
				finish(408, "Request Timeout")
			}
		},
		response: func(res *sip.Response) {
			if res.StatusCode >= 200 {
				finish(res.StatusCode, res.Reason)
			}
		},
		failed: func(error) { finish(408, "Request Timeout") },
	})
}

// gotBye ends the session at the peer's request. A BYE that comes while
// the session is starting (its 2xx sent or received) is answered at once
// and acted on once the session started, so that its notifications stay
// in order: DidStart, then WillEnd and DidEnd.
func (s *Session) gotBye(r *serverReq) {
	if a, ok := s.op.(*incomingCall); ok && a.phase == phaseWaitingAck {
		s.byeBeforeAck(a, r)
		return
	}
	if s.starting() || s.applying() {
		s.respond(r, 200, "OK", nil)
		s.later(func() { s.byeEnds(r.req, nil) })
		return
	}
	switch s.op.(type) {
	case *ending:
		// Our BYE crossed theirs.
		s.respond(r, 200, "OK", nil)
		return
	}
	if !s.state.established() {
		s.respond(r, 481, "Call/Transaction Does Not Exist", nil)
		return
	}
	s.byeEnds(r.req, r)
}

// starting tells whether the session's initial offer/answer is done on
// the wire (a 2xx sent or received) while its streams are not started
// yet: the peer may already send in-dialog requests, which wait for the
// start.
func (s *Session) starting() bool {
	switch op := s.op.(type) {
	case *outgoingCall:
		return op.phase == phaseStarting
	case *incomingCall:
		return op.phase == phaseWaitingAck || op.phase == phaseStarting
	}
	return false
}

// applying tells whether an offer/answer is complete on the wire but not
// applied yet: our 2xx to the peer's re-INVITE waits for its ACK (which
// the peer sent before a BYE that overtook it), or the streams of an
// accepted proposal start. A BYE then waits for the outcome, so that it
// is posted before the end, as the reference handles one dialog event at
// a time.
func (s *Session) applying() bool {
	switch op := s.op.(type) {
	case *remoteReinvite:
		return op.phase == phaseWaitingAck || op.phase == phaseStarting
	case *localReinvite:
		return op.phase == phaseStarting
	}
	return false
}

// byeEnds ends the session for the peer's BYE req; r, when not nil, is
// answered once the streams are deactivated (the peer closes its media
// when it has the answer: ours must not take that for a failure).
func (s *Session) byeEnds(req *sip.Request, r *serverReq) {
	if !s.state.established() {
		if r != nil {
			s.respond(r, 200, "OK", nil)
		}
		return
	}
	s.abandon()
	s.setState(StateTerminating)
	reason := "user request"
	if h := req.GetHeader("Reason"); h != nil {
		reason = h.Value()
	}
	s.post(SIPSessionWillEnd, WillEndData{Originator: Remote})
	if r == nil { // answered already (it came while the streams started)
		s.end(s.streams)
	} else {
		s.deactivate(s.streams)
		s.respond(r, 200, "OK", nil)
		s.endDeactivated(s.streams)
	}
	s.post(SIPSessionDidProcessTransaction, ProcessTransactionData{Originator: Remote, Method: "BYE", Code: 200, Reason: "OK"})
	s.terminate()
	s.post(SIPSessionDidEnd, DidEndData{Originator: Remote, EndReason: reason})
}

// byeBeforeAck handles the peer's BYE that came before the ACK of our 2xx
// (the ACK was lost, or overtook by the BYE on UDP). The dialog exists
// since our 2xx (RFC 3261 §12.1.1) and a peer that sends BYE has had it,
// so the BYE stands for the ACK: the BYE is answered at once, the session
// starts with the offer/answer it has and then ends, in the order of a
// BYE right behind the ACK — rather than waiting out the ACK (64·T1) and
// then sending a "Missing ACK" BYE that the peer, done with the call,
// never answers. When our 2xx carried the offer (an INVITE without SDP)
// the missing ACK had the answer: the session fails.
func (s *Session) byeBeforeAck(a *incomingCall, r *serverReq) {
	s.stopAckWait()
	s.respond(r, 200, "OK", nil)
	if a.offer == "" {
		s.end(a.streams)
		s.fail(Remote, 0, "", "missing ACK", nil)
		return
	}
	s.later(func() { s.byeEnds(r.req, nil) })
	s.incomingAcked(a, nil)
}

// abort ends the session at once because the manager stops without
// waiting any longer: its streams are ended and the session posts its
// end (DidEnd if it had started, else DidFail).
func (s *Session) abort() {
	if s.state == StateTerminated {
		return
	}
	started := s.state.established() || s.state == StateTerminating && !s.startTime.IsZero()
	s.rpcLimit = abortRPCTimeout
	var streams []Stream
	switch op := s.op.(type) {
	case *outgoingCall:
		streams = op.streams
	case *incomingCall:
		streams = op.streams
		s.respond(op.r, 480, "Temporarily Unavailable", nil)
	}
	s.abandon()
	s.end(append(append(append([]Stream(nil), s.streams...), s.proposed...), without(streams, append(s.streams, s.proposed...))...))
	s.terminate()
	if started {
		s.post(SIPSessionDidEnd, DidEndData{Originator: Local, EndReason: "user request"})
		return
	}
	s.post(SIPSessionDidFail, DidFailData{Originator: Local, FailureReason: "the session manager stopped"})
}
