package session

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/sdp/v3"
	"github.com/sipstreams/sipstreams/sdk"
)

// proposalAt returns the proposed (not yet active) stream at m-line i.
func (s *Session) proposalAt(i int) Stream {
	for _, st := range s.proposed {
		if s.index[st] == i {
			return st
		}
	}
	return nil
}

// freeSlots assigns m-line indexes to new streams: the first port-0 lines
// of the current SDP are reused, then new lines are appended (reference
// §2.7).
func (s *Session) freeSlots(streams []Stream) {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev, _ := sdk.ParseSDP(s.localSDP)
	n := 0
	if prev != nil {
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
		if next >= n {
			n = next + 1
		}
		next++
	}
}

// AddStreams proposes new streams (built with the registry's Create) in a
// re-INVITE. SIPSessionNewProposal is posted now; SIPSessionProposalAccepted
// or SIPSessionProposalRejected (or SIPSessionHadProposalFailure) later.
func (s *Session) AddStreams(streams []Stream) error {
	if len(streams) == 0 {
		return ErrNoStreams
	}
	if err := s.transition("add_stream", StateSendingProposal, StateConnected); err != nil {
		return err
	}
	s.mu.Lock()
	s.proposed = append([]Stream(nil), streams...)
	s.proposalCancel = make(chan struct{})
	s.mu.Unlock()
	s.post(SIPSessionNewProposal, NewProposalData{Originator: Local, ProposedStreams: streams})
	s.m.wg.Add(1)
	go func() {
		defer s.m.wg.Done()
		defer s.settle()
		s.runAddStreams(streams)
	}()
	return nil
}

func (s *Session) runAddStreams(streams []Stream) {
	ctx := s.m.life
	failure := func(reason string, ended []Stream) {
		end(ctx, ended)
		s.mu.Lock()
		s.proposed = nil
		s.mu.Unlock()
		s.post(SIPSessionHadProposalFailure, ProposalFailureData{Originator: Local, FailureReason: reason, ProposedStreams: streams})
	}
	ok, failed := initialize(ctx, s.m.cfg.Center, streams, s.info(), Outgoing)
	if len(ok) == 0 {
		failure("media stream did not initialize: "+failureList(failed), streams)
		return
	}
	end(ctx, streamsOf(failed))
	s.mu.Lock()
	s.proposed = ok
	s.mu.Unlock()
	s.freeSlots(ok)
	res, offer, err := s.reinvite(ctx, func() (string, error) { return s.buildOffer(ctx) }, DefaultInviteTimeout)
	if err != nil {
		failure(err.Error(), ok)
		return
	}
	if res.StatusCode >= 300 {
		end(ctx, ok)
		s.mu.Lock()
		s.proposed = nil
		s.mu.Unlock()
		s.post(SIPSessionProposalRejected, ProposalRejectedData{Originator: Local, Code: res.StatusCode, Reason: res.Reason, ProposedStreams: streams})
		return
	}
	if s.proposalWasCancelled() {
		// Our CANCEL lost the race to the 200: end the session (reference §2.7).
		end(ctx, ok)
		s.mu.Lock()
		s.proposed = nil
		s.mu.Unlock()
		s.settle()
		s.End()
		return
	}
	answerText := string(res.Body())
	answer, err := sdk.ParseSDP(answerText)
	if err == nil {
		var o *sdp.SessionDescription
		if o, err = sdk.ParseSDP(offer); err == nil {
			err = checkAnswer(o, answer)
		}
	}
	if err != nil {
		failure("SDP media missing in answer: "+err.Error(), ok)
		return
	}
	var accepted, refused []Stream
	for _, st := range ok {
		if mediaPort(answer, s.streamIndex(st)) > 0 {
			accepted = append(accepted, st)
		} else {
			refused = append(refused, st)
		}
	}
	end(ctx, refused)
	s.mu.Lock()
	s.remoteSDP = answerText
	s.mu.Unlock()
	s.updateStreams(ctx, offer, answerText)
	if f := start(ctx, s.m.cfg.Center, accepted, s.streamIndex, offer, answerText); len(f) > 0 {
		for _, x := range f {
			end(ctx, []Stream{x.Stream})
		}
		accepted = without(accepted, streamsOf(f))
	}
	s.mu.Lock()
	s.streams = append(s.streams, accepted...)
	s.proposed = nil
	s.mu.Unlock()
	s.post(SIPSessionProposalAccepted, ProposalAcceptedData{Originator: Local, AcceptedStreams: accepted, ProposedStreams: streams})
	s.post(SIPSessionDidRenegotiateStreams, RenegotiateData{Originator: Local, AddedStreams: accepted})
	s.m.claimFailed(s)
}

func without(list, drop []Stream) []Stream {
	d := setOf(drop)
	out := list[:0:0]
	for _, st := range list {
		if !d[st] {
			out = append(out, st)
		}
	}
	return out
}

// CancelProposal cancels our pending add-stream re-INVITE (valid in
// sending_proposal). The outcome is SIPSessionProposalRejected with code
// 487, or the session ends if the answer won the race.
func (s *Session) CancelProposal() error {
	if err := s.transition("cancel_proposal", StateCancellingProposal, StateSendingProposal); err != nil {
		return err
	}
	s.mu.Lock()
	c := s.proposalCancel
	s.mu.Unlock()
	if c != nil {
		s.cancelProposalOnce.Do(func() { close(c) })
	}
	return nil
}

func (s *Session) proposalWasCancelled() bool {
	s.mu.Lock()
	c := s.proposalCancel
	s.mu.Unlock()
	if c == nil {
		return false
	}
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// RemoveStreams removes streams from the session with a re-INVITE that
// sets their m-lines' port to 0. Any failure ends the whole session
// (reference §2.7).
func (s *Session) RemoveStreams(streams []Stream) error {
	if err := s.transition("remove_stream", StateSendingProposal, StateConnected); err != nil {
		return err
	}
	s.mu.Lock()
	s.streams = without(s.streams, streams)
	s.mu.Unlock()
	s.m.wg.Add(1)
	go func() {
		defer s.m.wg.Done()
		ctx := s.m.life
		for _, st := range streams {
			_ = st.Deactivate(ctx)
		}
		res, offer, err := s.reinvite(ctx, func() (string, error) { return s.buildOffer(ctx) }, ShortReinviteTimeout)
		end(ctx, streams)
		if err != nil || res.StatusCode >= 300 {
			s.setState(StateConnected)
			s.End()
			return
		}
		s.mu.Lock()
		s.remoteSDP = string(res.Body())
		s.mu.Unlock()
		s.updateStreams(ctx, offer, string(res.Body()))
		s.setState(StateConnected)
		s.post(SIPSessionDidRenegotiateStreams, RenegotiateData{Originator: Local, RemovedStreams: streams})
	}()
	return nil
}

// receiveProposal handles a re-INVITE that adds streams: dispatch the new
// m-lines, ask the application (SIPSessionNewProposal), and answer as it
// decides with AcceptProposal or RejectProposal. It runs in the INVITE
// handler and returns after the final response.
func (s *Session) receiveProposal(ctx context.Context, req *sip.Request, tx sip.ServerTransaction, offerText string, offer *sdp.SessionDescription, lines []int, turn uint64) {
	sig := s.m.cfg.Signalling
	var proposed []Stream
	for _, i := range lines {
		st, err := s.m.cfg.Streams.NewFromSDP(ctx, &sdk.NewFromSDPRequest{
			Account: s.acc.sdk(), RemoteSDP: offerText, StreamIndex: i,
			Prepare: &sdk.Prepare{Session: s.info(), Direction: string(Incoming), LocalMedia: true},
		})
		if err != nil {
			continue
		}
		s.mu.Lock()
		s.index[st] = i
		s.mu.Unlock()
		proposed = append(proposed, st)
	}
	if len(proposed) == 0 {
		_ = sig.Respond(tx, req, 488, "Not Acceptable Here", nil)
		return
	}
	decision := make(chan proposalDecision, 1)
	s.mu.Lock()
	s.proposed = proposed
	s.decide = decision
	s.mu.Unlock()
	canceled := make(chan struct{})
	var cancelOnce sync.Once
	tx.OnCancel(func(*sip.Request) { cancelOnce.Do(func() { close(canceled) }) })
	_ = sig.Respond(tx, req, 100, "Trying", nil)
	s.post(SIPSessionNewProposal, NewProposalData{Originator: Remote, ProposedStreams: proposed})
	var d proposalDecision
	select {
	case d = <-decision:
	case <-canceled:
		// The peer cancelled its proposal (sipgo answered 487).
		end(ctx, proposed)
		s.clearProposal()
		s.remoteTurnDone(turn)
		s.post(SIPSessionProposalRejected, ProposalRejectedData{Originator: Remote, Code: 487, Reason: "Request Terminated", ProposedStreams: proposed})
		return
	case <-tx.Done():
		// The peer cancelled its proposal (sipgo answered 487).
		end(ctx, proposed)
		s.clearProposal()
		s.remoteTurnDone(turn)
		s.post(SIPSessionProposalRejected, ProposalRejectedData{Originator: Remote, Code: 487, Reason: "Request Terminated", ProposedStreams: proposed})
		return
	case <-time.After(DefaultInviteTimeout):
		d = proposalDecision{code: 408, reason: "Request Timeout"}
	case <-ctx.Done():
		return
	}
	if d.code != 0 {
		end(ctx, proposed)
		s.clearProposal()
		_ = sig.Respond(tx, req, d.code, d.reason, nil)
		s.remoteTurnDone(turn)
		s.post(SIPSessionProposalRejected, ProposalRejectedData{Originator: Remote, Code: d.code, Reason: d.reason, ProposedStreams: proposed})
		return
	}
	accepted := d.accept
	end(ctx, without(proposed, accepted))
	s.mu.Lock()
	s.proposed = accepted // buildAnswer sees them at their indexes
	s.mu.Unlock()
	answer, err := s.buildAnswer(ctx, offerText, offer)
	if err != nil {
		end(ctx, accepted)
		s.clearProposal()
		_ = sig.Respond(tx, req, 500, "Server Internal Error", nil)
		s.remoteTurnDone(turn)
		s.post(SIPSessionHadProposalFailure, ProposalFailureData{Originator: Remote, FailureReason: err.Error(), ProposedStreams: proposed})
		return
	}
	ack, err := s.answer2xx(ctx, tx, req, []byte(answer), nil)
	if err != nil || ack == nil {
		end(ctx, accepted)
		s.clearProposal()
		s.remoteTurnDone(turn)
		s.post(SIPSessionHadProposalFailure, ProposalFailureData{Originator: Remote, FailureReason: "missing ACK", ProposedStreams: proposed})
		return
	}
	s.applying.Lock()
	s.mu.Lock()
	s.remoteSDP = offerText
	s.mu.Unlock()
	s.updateStreams(ctx, answer, offerText)
	if f := start(ctx, s.m.cfg.Center, accepted, s.streamIndex, answer, offerText); len(f) > 0 {
		end(ctx, streamsOf(f))
		accepted = without(accepted, streamsOf(f))
	}
	s.mu.Lock()
	s.streams = append(s.streams, accepted...)
	s.proposed, s.decide = nil, nil
	s.mu.Unlock()
	s.remoteTurnDone(turn)
	s.post(SIPSessionProposalAccepted, ProposalAcceptedData{Originator: Remote, AcceptedStreams: accepted, ProposedStreams: proposed})
	s.post(SIPSessionDidRenegotiateStreams, RenegotiateData{Originator: Remote, AddedStreams: accepted})
	s.applying.Unlock()
	s.m.claimFailed(s)
}

// settle returns from our own proposal states to connected (and leaves any
// other state, such as terminating, alone).
func (s *Session) settle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == StateSendingProposal || s.state == StateCancellingProposal {
		s.state = StateConnected
	}
}

type proposalDecision struct {
	accept []Stream
	code   int
	reason string
}

func (s *Session) clearProposal() {
	s.mu.Lock()
	s.proposed, s.decide = nil, nil
	s.mu.Unlock()
}

// AcceptProposal accepts streams (a subset of ProposedStreams) of the
// peer's proposal.
func (s *Session) AcceptProposal(streams []Stream) error {
	if len(streams) == 0 {
		return ErrNoStreams
	}
	return s.decideProposal("accept_proposal", StateAcceptingProposal, proposalDecision{accept: streams})
}

// RejectProposal refuses the peer's proposal with code (default 488).
func (s *Session) RejectProposal(code int, reason string) error {
	if code == 0 {
		code = 488
	}
	if reason == "" {
		reason = reasonPhrase(code)
	}
	if code < 300 || code > 699 {
		return fmt.Errorf("session: reject code %d is not a failure code", code)
	}
	return s.decideProposal("reject_proposal", StateRejectingProposal, proposalDecision{code: code, reason: reason})
}

func (s *Session) decideProposal(call string, next State, d proposalDecision) error {
	s.mu.Lock()
	decide := s.decide
	s.mu.Unlock()
	if decide == nil {
		return &IllegalStateError{Call: call, State: s.State()}
	}
	if err := s.transition(call, next, StateReceivedProposal); err != nil {
		return err
	}
	decide <- d
	return nil
}
