package session

import (
	"fmt"

	"github.com/emiago/sipgo/sip"
	"github.com/sipstreams/sipstreams/sdk"
)

// freeSlots assigns m-line indexes to new streams: the first port-0 lines
// of the current SDP are reused, then new lines are appended (reference
// §2.7).
func (s *Session) freeSlots(streams []Stream) {
	n := 0
	if prev, err := sdk.ParseSDP(s.localSDP); err == nil {
		n = len(prev.MediaDescriptions)
	}
	used := map[int]bool{}
	for _, st := range s.streams {
		used[s.index[st]] = true
	}
	next := 0
	for _, st := range streams {
		for next < n && used[next] {
			next++
		}
		s.index[st] = next
		used[next] = true
		next++
	}
}

// postProposal posts a proposal notification under the reference's later
// name and the seed's (see notifications.go).
func (s *Session) postProposal(name string, data any) {
	s.post(name, data)
	if seed, ok := seedAlias[name]; ok {
		s.post(seed, data)
	}
}

// AddStreams proposes new streams (built with the registry's Create) in a
// re-INVITE. SIPSessionNewProposal (and the seed's SIPSessionGotProposal)
// is posted now; SIPSessionProposalAccepted or SIPSessionProposalRejected
// (with the seed's names) or SIPSessionHadProposalFailure later.
func (s *Session) AddStreams(streams []Stream) error {
	if len(streams) == 0 {
		return ErrNoStreams
	}
	return s.do("add_stream", func() error {
		if err := s.requireIdle("add_stream"); err != nil {
			return err
		}
		lr := &localReinvite{kind: kindAdd, streams: append([]Stream(nil), streams...), timeout: s.inviteTimeout(), phase: phaseInitializing}
		s.op = lr
		s.publish(func() {
			s.state = StateSendingProposal
			s.proposed = lr.streams
		})
		s.observe(streams...)
		s.postProposal(SIPSessionNewProposal, NewProposalData{Originator: Local, ProposedStreams: lr.streams})
		s.initialize(streams, Outgoing, func(ok []Stream, failed []streamFailure) {
			if s.op != lr {
				s.end(ok)
				return
			}
			s.end(streamsOf(failed))
			if len(ok) == 0 {
				s.proposalFailed(lr, Local, "media stream did not initialize: "+failureList(failed))
				s.idle()
				return
			}
			if lr.canceled {
				s.end(ok)
				s.proposalRejected(lr, Local, 487, "Request Terminated")
				return
			}
			lr.streams = ok
			s.freeSlots(ok)
			s.reinvite(lr)
		})
		return nil
	})
}

// CancelProposal cancels our pending add-stream re-INVITE (valid in
// sending_proposal). The outcome is SIPSessionProposalRejected with code
// 487, or the session ends if the answer won the race.
func (s *Session) CancelProposal() error {
	return s.do("cancel_proposal", func() error {
		lr, ok := s.op.(*localReinvite)
		if !ok || lr.kind != kindAdd || s.state != StateSendingProposal {
			return &IllegalStateError{Call: "cancel_proposal", State: s.state}
		}
		s.setState(StateCancellingProposal)
		lr.byUser = true
		if lr.phase == phaseInviting {
			s.cancelReinvite(lr)
		} else {
			lr.canceled = true
		}
		return nil
	})
}

// proposalAnswered completes our add-streams proposal with the final
// response to its re-INVITE (or the error that stood for one).
func (s *Session) proposalAnswered(lr *localReinvite, res *sip.Response, err error) {
	switch {
	case err != nil && lr.canceled:
		s.end(lr.streams)
		s.proposalRejected(lr, Local, 487, "Request Terminated")
	case err != nil:
		s.end(lr.streams)
		s.proposalFailed(lr, Local, err.Error())
		s.idle()
	case res.StatusCode >= 300:
		s.end(lr.streams)
		s.proposalRejected(lr, Local, res.StatusCode, res.Reason)
	case lr.canceled:
		// Our CANCEL lost the race to the 200: end the session (§2.7);
		// the proposal ends with it.
		s.endLocal("")
	default:
		answer := string(res.Body())
		if err := s.checkAnswerText(answer); err != nil {
			s.end(lr.streams)
			s.proposalFailed(lr, Local, "SDP media missing in answer: "+err.Error())
			s.idle()
			return
		}
		accepted, refused := s.splitByAnswer(lr.streams, answer)
		s.end(refused)
		s.remoteSDP = answer
		s.update(lr.offer, answer)
		lr.phase = phaseStarting
		s.start(accepted, lr.offer, answer, func(failed []streamFailure) {
			if s.op == lr {
				s.proposalStarted(Local, accepted, failed, lr.streams)
			}
		})
	}
}

// proposalRejected closes a proposal the peer (or our CANCEL) refused.
func (s *Session) proposalRejected(lr *localReinvite, orig Originator, code int, reason string) {
	s.publish(func() {
		s.proposed = nil
		s.state = StateConnected
	})
	s.postProposal(SIPSessionProposalRejected, ProposalRejectedData{Originator: orig, Code: code, Reason: reason, ProposedStreams: lr.streams})
	s.idle()
}

// proposalFailed closes a proposal that failed for an internal reason.
func (s *Session) proposalFailed(lr *localReinvite, orig Originator, reason string) {
	s.publish(func() {
		s.proposed = nil
		if s.state.established() {
			s.state = StateConnected
		}
	})
	s.post(SIPSessionHadProposalFailure, ProposalFailureData{Originator: orig, FailureReason: reason, ProposedStreams: lr.streams})
}

// receiveProposal handles a re-INVITE that adds streams: dispatch the new
// m-lines, ask the application (SIPSessionNewProposal), and answer as it
// decides with AcceptProposal or RejectProposal.
func (s *Session) receiveProposal(r *serverReq, offerText string, offer *sdpSessionDescription, lines []int) {
	if lr := s.retrying; lr != nil && lr.kind == kindAdd {
		// Our own proposal waits out a glare: the peer's comes first.
		s.retrying = nil
		s.end(lr.streams)
		s.proposalFailed(lr, Local, "received stream proposal")
	}
	proposed, _ := s.dispatch(nil, offerText, offer, lines)
	if len(proposed) == 0 {
		s.respond(r, 488, "Not Acceptable Here", nil)
		return
	}
	rr := &remoteReinvite{r: r, offer: offerText, parsed: offer, phase: phaseDeciding, proposed: proposed}
	s.op = rr
	s.publish(func() {
		s.state = StateReceivedProposal
		s.proposed = proposed
	})
	cancelled := !r.onCancel(func() { s.q.push(func() { s.proposalCancelled(rr) }) })
	rr.timer = s.after(s.inviteTimeout(), func() {
		if s.op == rr && rr.phase == phaseDeciding {
			s.rejectProposal(rr, 408, "Request Timeout")
		}
	})
	s.postProposal(SIPSessionNewProposal, NewProposalData{Originator: Remote, ProposedStreams: proposed})
	if cancelled {
		s.proposalCancelled(rr) // the CANCEL came before we listened for it
	}
}

// proposalCancelled: the peer cancelled its proposal (sipgo answered 487).
func (s *Session) proposalCancelled(rr *remoteReinvite) {
	if s.op != rr || (rr.phase != phaseDeciding && rr.phase != phaseInitializing) {
		return
	}
	s.stopTimer(rr.timer)
	if rr.r.final() {
		rr.r.release()
	}
	s.end(rr.proposed)
	s.publish(func() {
		s.proposed = nil
		s.state = StateConnected
	})
	s.postProposal(SIPSessionProposalRejected, ProposalRejectedData{Originator: Remote, Code: 487, Reason: "Request Terminated", ProposedStreams: rr.proposed})
	s.idle()
}

// AcceptProposal accepts streams (a subset of ProposedStreams) of the
// peer's proposal.
func (s *Session) AcceptProposal(streams []Stream) error {
	if len(streams) == 0 {
		return ErrNoStreams
	}
	return s.do("accept_proposal", func() error {
		rr, ok := s.op.(*remoteReinvite)
		if !ok || rr.phase != phaseDeciding || s.state != StateReceivedProposal {
			return &IllegalStateError{Call: "accept_proposal", State: s.state}
		}
		keep := setOf(streams)
		var accepted []Stream
		for _, st := range rr.proposed {
			if keep[st] {
				accepted = append(accepted, st)
			}
		}
		if len(accepted) == 0 {
			return fmt.Errorf("%w: none of the streams given was proposed", ErrNoStreams)
		}
		s.stopTimer(rr.timer)
		s.setState(StateAcceptingProposal)
		s.end(without(rr.proposed, accepted))
		rr.accepted = accepted
		deferred := false
		for _, st := range accepted {
			deferred = deferred || !st.Prepared().Done()
		}
		if !deferred {
			s.answerProposal(rr, accepted)
			return nil
		}
		// Streams that deferred their preparation to the accept
		// (sdk.PrepareDeferrer: a file transfer) initialize now, as the
		// reference's accept_proposal initializes every accepted stream.
		rr.phase = phaseInitializing
		s.initialize(accepted, Incoming, func(ok []Stream, failed []streamFailure) { s.proposalInitialized(rr, ok, failed) })
		return nil
	})
}

// proposalInitialized answers the peer's proposal with the accepted
// streams that initialized (488 when none did).
func (s *Session) proposalInitialized(rr *remoteReinvite, accepted []Stream, failed []streamFailure) {
	if s.op != rr || rr.phase != phaseInitializing {
		s.end(accepted)
		return
	}
	s.end(streamsOf(failed))
	if len(accepted) == 0 {
		s.respond(rr.r, 488, "Not Acceptable Here", nil)
		s.remoteProposalFailed(rr, "media stream did not initialize: "+failureList(failed))
		s.idle()
		return
	}
	s.answerProposal(rr, accepted)
}

// answerProposal answers the peer's proposal with the accepted streams,
// initialized.
func (s *Session) answerProposal(rr *remoteReinvite, accepted []Stream) {
	rr.accepted = accepted
	answer, err := s.buildAnswer(rr.offer, rr.parsed, accepted)
	if err != nil {
		s.end(accepted)
		s.respond(rr.r, 500, "Server Internal Error", nil)
		s.remoteProposalFailed(rr, err.Error())
		s.idle()
		return
	}
	rr.phase = phaseWaitingAck
	err = s.answer2xx(rr.r, []byte(answer), func(*sip.Request) { s.proposalAcked(rr, answer) }, func() {
		if s.op == rr {
			s.end(rr.accepted)
			s.remoteProposalFailed(rr, "missing ACK")
			s.idle()
		}
	})
	if err != nil {
		s.end(accepted)
		s.remoteProposalFailed(rr, "SIP core error: "+err.Error())
		s.idle()
	}
}

func (s *Session) proposalAcked(rr *remoteReinvite, answer string) {
	if s.op != rr {
		return
	}
	s.remoteSDP = rr.offer
	s.update(answer, rr.offer)
	rr.phase = phaseStarting
	accepted := rr.accepted
	s.start(accepted, answer, rr.offer, func(failed []streamFailure) {
		if s.op == rr {
			s.proposalStarted(Remote, accepted, failed, rr.proposed)
		}
	})
}

// proposalStarted completes an accepted proposal once its streams started:
// those that failed are ended, the others join the session
// (SIPSessionProposalAccepted, SIPSessionDidRenegotiateStreams).
func (s *Session) proposalStarted(orig Originator, accepted []Stream, failed []streamFailure, proposed []Stream) {
	s.end(streamsOf(failed))
	accepted = without(accepted, streamsOf(failed))
	s.publish(func() {
		s.streams = append(s.streams, accepted...)
		s.proposed = nil
		s.state = StateConnected
	})
	s.postProposal(SIPSessionProposalAccepted, ProposalAcceptedData{Originator: orig, AcceptedStreams: accepted, ProposedStreams: proposed})
	s.postRenegotiate(orig, accepted, nil)
	s.idle()
}

func (s *Session) remoteProposalFailed(rr *remoteReinvite, reason string) {
	s.publish(func() {
		s.proposed = nil
		if s.state.established() {
			s.state = StateConnected
		}
	})
	s.post(SIPSessionHadProposalFailure, ProposalFailureData{Originator: Remote, FailureReason: reason, ProposedStreams: rr.proposed})
}

// RejectProposal refuses the peer's proposal with code (default 488).
func (s *Session) RejectProposal(code int, reason string) error {
	if code == 0 {
		code = 488
	}
	if code < 300 || code > 699 {
		return fmt.Errorf("session: reject code %d is not a failure code", code)
	}
	if reason == "" {
		reason = reasonPhrase(code)
	}
	return s.do("reject_proposal", func() error {
		rr, ok := s.op.(*remoteReinvite)
		if !ok || rr.phase != phaseDeciding || s.state != StateReceivedProposal {
			return &IllegalStateError{Call: "reject_proposal", State: s.state}
		}
		s.setState(StateRejectingProposal)
		s.rejectProposal(rr, code, reason)
		return nil
	})
}

func (s *Session) rejectProposal(rr *remoteReinvite, code int, reason string) {
	s.stopTimer(rr.timer)
	s.end(rr.proposed)
	s.respond(rr.r, code, reason, nil)
	s.publish(func() {
		s.proposed = nil
		s.state = StateConnected
	})
	s.postProposal(SIPSessionProposalRejected, ProposalRejectedData{Originator: Remote, Code: code, Reason: reason, ProposedStreams: rr.proposed})
	s.idle()
}
