package session

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/sdp/v3"
	"github.com/sipstreams/sipstreams/sdk"
)

// activeAt returns the active stream at m-line i, if any.
func (s *Session) activeAt(i int) Stream {
	for _, st := range s.streams {
		if s.index[st] == i {
			return st
		}
	}
	return nil
}

// buildOffer makes a new offer of the current session: every active
// stream's offer at its m-line, refused lines kept with port 0 (RFC 3264
// §8: m-lines are never removed).
func (s *Session) buildOffer(ctx context.Context) (string, error) {
	s.mu.Lock()
	prev, err := sdk.ParseSDP(s.localSDP)
	s.mu.Unlock()
	if err != nil {
		return "", err
	}
	n := len(prev.MediaDescriptions)
	s.mu.Lock()
	for _, st := range s.proposed {
		n = max(n, s.index[st]+1)
	}
	s.mu.Unlock()
	media := make([]*sdp.MediaDescription, n)
	for i := range media {
		s.mu.Lock()
		st := s.activeAt(i)
		if st == nil {
			st = s.proposalAt(i)
		}
		s.mu.Unlock()
		if st == nil {
			media[i] = rejected(prev.MediaDescriptions[i])
			continue
		}
		res, err := st.GetLocalMedia(ctx, &sdk.GetLocalMediaRequest{ForOffer: true, StreamIndex: i})
		if err != nil {
			return "", fmt.Errorf("%s stream: %w", st.Type(), err)
		}
		md, err := sdk.ParseMedia(res.Media)
		if err != nil {
			return "", err
		}
		media[i] = md
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	text, err := s.origin.build(media)
	if err == nil {
		s.localSDP = text
	}
	return text, err
}

// buildAnswer answers a re-INVITE's offer with the active streams.
func (s *Session) buildAnswer(ctx context.Context, offerText string, offer *sdp.SessionDescription) (string, error) {
	media := map[int]string{}
	for i := range offer.MediaDescriptions {
		s.mu.Lock()
		st := s.activeAt(i)
		if st == nil {
			st = s.proposalAt(i)
		}
		s.mu.Unlock()
		if st == nil || mediaPort(offer, i) == 0 {
			continue
		}
		res, err := st.GetLocalMedia(ctx, &sdk.GetLocalMediaRequest{RemoteSDP: offerText, StreamIndex: i})
		if err != nil {
			return "", fmt.Errorf("%s stream: %w", st.Type(), err)
		}
		media[i] = res.Media
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	text, err := s.origin.answer(offer, media)
	if err == nil {
		s.localSDP = text
	}
	return text, err
}

// glareWait is how long to wait before retrying a re-INVITE refused with
// 491 (RFC 3261 §14.1): 2.1–4 s for the Call-ID's owner, else 0–2 s.
func (s *Session) glareWait() time.Duration {
	if s.direction == Outgoing {
		return 2100*time.Millisecond + time.Duration(rand.Int64N(int64(1900*time.Millisecond)))
	}
	return time.Duration(rand.Int64N(int64(2 * time.Second)))
}

// reinvite sends an in-dialog INVITE with offer (rebuilt by makeOffer on a
// 491 retry), ACKs a 2xx, and returns the final response. On timeout it
// CANCELs the re-INVITE and returns an error.
func (s *Session) reinvite(ctx context.Context, makeOffer func() (string, error), timeout time.Duration) (*sip.Response, string, error) {
	const attempts = 3
	for attempt := 1; ; attempt++ {
		offer, err := makeOffer()
		if err != nil {
			return nil, "", err
		}
		s.mu.Lock()
		target, route, user := s.remoteTarget, s.route, s.localURI.User
		s.mu.Unlock()
		req := s.newRequest(sip.INVITE, target)
		req.AppendHeader(&sip.ContactHeader{Address: s.m.cfg.Signalling.ContactFor(route, user)})
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		req.SetBody([]byte(offer))
		res, err := s.transact(ctx, req, timeout)
		if err != nil {
			return nil, offer, err
		}
		if res.StatusCode >= 200 && res.StatusCode < 300 {
			ack := s.newRequest(sip.ACK, target)
			ack.ReplaceHeader(&sip.CSeqHeader{SeqNo: req.CSeq().SeqNo, MethodName: sip.ACK})
			if err := s.m.cfg.Signalling.Write(ack, route); err != nil {
				s.m.log.Warn("ACK not sent", "error", err)
			}
		}
		if res.StatusCode != 491 || attempt == attempts {
			return res, offer, nil
		}
		// No transaction of ours is pending while we wait: the peer's own
		// re-INVITE may go through meanwhile (RFC 3261 §14.1).
		s.setState(StateConnected)
		select {
		case <-time.After(s.glareWait()):
		case <-ctx.Done():
			return nil, offer, ctx.Err()
		}
		if err := s.reacquire(ctx); err != nil {
			return nil, offer, err
		}
	}
}

// reacquire moves back to sending_proposal once the session is connected
// again (a peer's offer/answer may be in progress), bounded by ctx.
func (s *Session) reacquire(ctx context.Context) error {
	for {
		err := s.transition("re-INVITE retry", StateSendingProposal, StateConnected)
		if err == nil {
			return nil
		}
		if !s.State().established() {
			return err
		}
		select {
		case <-time.After(20 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// transact sends req and waits for its final response, cancelling it after
// timeout (RFC 3261 §9).
func (s *Session) transact(ctx context.Context, req *sip.Request, timeout time.Duration) (*sip.Response, error) {
	s.mu.Lock()
	route := s.route
	s.mu.Unlock()
	tx, err := s.m.cfg.Signalling.Request(ctx, req, route)
	if err != nil {
		return nil, err
	}
	defer tx.Terminate()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	canceled := false
	s.mu.Lock()
	userCancel := s.proposalCancel
	s.mu.Unlock()
	if req.Method != sip.INVITE {
		userCancel = nil
	}
	for {
		select {
		case <-userCancel:
			userCancel = nil
			if !canceled {
				canceled = true
				s.cancelInFlight(ctx, req)
			}
		case res := <-tx.Responses():
			if res != nil && res.StatusCode >= 200 {
				return res, nil
			}
		case <-tx.Done():
			if err := tx.Err(); err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("session: %s got no final response", req.Method)
		case <-timer.C:
			if canceled {
				return nil, fmt.Errorf("session: %s timed out", req.Method)
			}
			canceled = true
			s.cancelInFlight(ctx, req)
			timer.Reset(ShortReinviteTimeout)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// cancelInFlight CANCELs an in-dialog INVITE of ours.
func (s *Session) cancelInFlight(ctx context.Context, req *sip.Request) {
	s.mu.Lock()
	saved := s.invite
	s.invite = req
	s.mu.Unlock()
	s.sendCancel(ctx)
	s.mu.Lock()
	s.invite = saved
	s.mu.Unlock()
}

// Hold puts the session's streams on hold: each stream's Hold, then a
// re-INVITE whose offer carries the hold directions. Outcome:
// SIPSessionDidChangeHoldState(originator local).
func (s *Session) Hold() error { return s.changeHold(true) }

// Unhold takes the session's streams off hold.
func (s *Session) Unhold() error { return s.changeHold(false) }

func (s *Session) changeHold(hold bool) error {
	call := map[bool]string{true: "hold", false: "unhold"}[hold]
	if err := s.transition(call, StateSendingProposal, StateConnected); err != nil {
		return err
	}
	s.m.wg.Add(1)
	go func() {
		defer s.m.wg.Done()
		ctx := s.m.life
		streams := s.Streams()
		for _, st := range streams {
			if !st.HoldSupported() {
				continue
			}
			if hold {
				_ = st.Hold(ctx)
			} else {
				_ = st.Unhold(ctx)
			}
		}
		res, offer, err := s.reinvite(ctx, func() (string, error) { return s.buildOffer(ctx) }, ShortReinviteTimeout)
		if err != nil || res.StatusCode >= 300 {
			// The hold did not go through: the streams keep negotiating the
			// old directions at the next offer.
			s.m.log.Info("hold re-INVITE failed", "error", err, "response", res)
			s.setState(StateConnected)
			return
		}
		answer := string(res.Body())
		s.mu.Lock()
		s.remoteSDP = answer
		s.mu.Unlock()
		s.updateStreams(ctx, offer, answer)
		s.setState(StateConnected)
		s.post(SIPSessionDidChangeHoldState, HoldStateData{Originator: Local, OnHold: hold, Partial: hold && s.partialHold(ctx, true)})
	}()
	return nil
}

// updateStreams applies negotiated SDP to every active stream.
func (s *Session) updateStreams(ctx context.Context, local, remote string) {
	for _, st := range s.Streams() {
		if err := st.Update(ctx, &sdk.UpdateRequest{LocalSDP: local, RemoteSDP: remote, StreamIndex: s.streamIndex(st)}); err != nil {
			s.m.log.Warn("stream update failed", "type", st.Type(), "error", err)
		}
	}
}

// holdFlags returns, per hold-capable stream, whether it is held by the
// local (local=true) or the remote party.
func (s *Session) holdFlags(ctx context.Context, local bool) map[Stream]bool {
	out := map[Stream]bool{}
	for _, st := range s.Streams() {
		if !st.HoldSupported() {
			continue
		}
		a, err := st.Attributes(ctx)
		if err != nil {
			continue
		}
		if local {
			out[st] = a.OnHoldByLocal
		} else {
			out[st] = a.OnHoldByRemote
		}
	}
	return out
}

// partialHold is true when some but not all hold-capable streams are held.
func (s *Session) partialHold(ctx context.Context, local bool) bool {
	held, total := 0, 0
	for _, h := range s.holdFlags(ctx, local) {
		total++
		if h {
			held++
		}
	}
	return held > 0 && held < total
}

// OnHold is true when any stream is held by either side.
func (s *Session) OnHold() bool {
	ctx, cancel := context.WithTimeout(s.m.life, ShortReinviteTimeout)
	defer cancel()
	for _, st := range s.Streams() {
		if a, err := st.Attributes(ctx); err == nil && a.OnHold() {
			return true
		}
	}
	return false
}

// gotReinvite answers an in-dialog INVITE (reference §2.7). It runs in the
// engine's handler goroutine and returns after the final response.
func (s *Session) gotReinvite(req *sip.Request, tx sip.ServerTransaction) {
	sig := s.m.cfg.Signalling
	body := req.Body()
	next := StateReceivedProposal
	if len(body) == 0 {
		next = StateReceivedProposalRequest
	}
	turn, ok := s.awaitRemoteTurn(next)
	if !ok {
		// Our own offer is outstanding: glare (RFC 3261 §14.2).
		_ = sig.Respond(tx, req, 491, "Request Pending", nil)
		return
	}
	defer s.remoteTurnDone(turn)
	ctx := s.m.life
	if len(body) == 0 {
		s.reofferTo(ctx, req, tx)
		return
	}
	offerText := string(body)
	offer, err := sdk.ParseSDP(offerText)
	if err != nil {
		_ = sig.Respond(tx, req, 400, "Bad Request", nil, sip.NewHeader("Warning", `399 - "malformed SDP"`))
		return
	}
	s.mu.Lock()
	current, _ := sdk.ParseSDP(s.remoteSDP)
	s.mu.Unlock()
	warn := func(text string) sip.Header {
		return sip.NewHeader("Warning", fmt.Sprintf(`399 %s "%s"`, s.m.cfg.UserAgent, text))
	}
	if current != nil && len(offer.MediaDescriptions) < len(current.MediaDescriptions) {
		_ = sig.Respond(tx, req, 488, "Not Acceptable Here", nil, warn("Streams cannot be deleted from the SDP"))
		return
	}
	var removed []Stream
	var addedLines []int
	for i := range offer.MediaDescriptions {
		s.mu.Lock()
		st := s.activeAt(i)
		s.mu.Unlock()
		was := 0
		if current != nil {
			was = mediaPort(current, i)
		}
		now := mediaPort(offer, i)
		switch {
		case current == nil || i >= len(current.MediaDescriptions) || (was == 0 && now > 0):
			if now > 0 {
				addedLines = append(addedLines, i)
			}
		case st != nil && now == 0:
			removed = append(removed, st)
		case st != nil:
			ok, err := st.ValidateUpdate(ctx, &sdk.ValidateUpdateRequest{RemoteSDP: offerText, StreamIndex: i})
			if err != nil || !ok.OK {
				_ = sig.Respond(tx, req, 488, "Not Acceptable Here", nil, warn(fmt.Sprintf("Failed to update media stream index %d", i)))
				return
			}
		}
	}
	if len(addedLines) > 0 && len(removed) > 0 {
		_ = sig.Respond(tx, req, 488, "Not Acceptable Here", nil, warn("Both removing AND adding a media stream is currently not supported"))
		return
	}
	if len(addedLines) > 0 {
		s.receiveProposal(ctx, req, tx, offerText, offer, addedLines, turn)
		return
	}
	heldBefore := s.holdFlags(ctx, false)
	s.mu.Lock()
	keep := s.streams[:0:0]
	for _, st := range s.streams {
		if !setOf(removed)[st] {
			keep = append(keep, st)
		}
	}
	s.streams = keep
	s.mu.Unlock()
	answer, err := s.buildAnswer(ctx, offerText, offer)
	if err != nil {
		_ = sig.Respond(tx, req, 500, "Server Internal Error", nil, warn(err.Error()))
		return
	}
	ack, err := s.answer2xx(ctx, tx, req, []byte(answer), nil)
	if err != nil {
		return
	}
	if ack == nil {
		s.m.log.Warn("no ACK for our 2xx to a re-INVITE")
	}
	// A BYE right behind the ACK waits until the offer is applied and
	// its outcome posted, as the reference handles one dialog event at a
	// time.
	s.applying.Lock()
	defer s.applying.Unlock()
	s.mu.Lock()
	s.remoteSDP = offerText
	s.mu.Unlock()
	end(ctx, removed)
	s.updateStreams(ctx, answer, offerText)
	heldAfter := s.holdFlags(ctx, false)
	s.remoteTurnDone(turn)
	if len(removed) > 0 {
		s.post(SIPSessionDidRenegotiateStreams, RenegotiateData{Originator: Remote, RemovedStreams: removed})
	}
	if changed, on := holdChange(heldBefore, heldAfter); changed {
		s.post(SIPSessionDidChangeHoldState, HoldStateData{Originator: Remote, OnHold: on, Partial: on && s.partialHold(ctx, false)})
	}
}

// remoteTurnDone ends the handling of the incoming re-INVITE of turn:
// the session is connected again — before the outcome is posted, so that
// an observer may act on it at once (add a stream after a removal, hold
// after an accepted proposal). It is a no-op once the turn is over: a
// later re-INVITE's turn, or a state the application moved on to
// meanwhile (ending, its own proposal), is left alone.
func (s *Session) remoteTurnDone(turn uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.remoteTurn != turn {
		return
	}
	switch s.state {
	case StateReceivedProposal, StateReceivedProposalRequest, StateAcceptingProposal, StateRejectingProposal:
		s.state = StateConnected
	}
	s.remoteTurn++ // this turn is over
}

// awaitRemoteTurn moves to next for an incoming re-INVITE and returns the
// turn's number. While the previous offer/answer is complete on the wire
// but still being applied to the streams (the initial INVITE's streams
// starting after the ACK, or the last remote re-INVITE's update) it waits
// for that, bounded: the peer may send its next re-INVITE at once. It
// refuses when our own re-INVITE is pending.
func (s *Session) awaitRemoteTurn(next State) (uint64, bool) {
	deadline := time.Now().Add(ShortReinviteTimeout)
	for {
		s.mu.Lock()
		st := s.state
		if st == StateConnected {
			s.state = next
			s.remoteTurn++
			turn := s.remoteTurn
			s.mu.Unlock()
			return turn, true
		}
		s.mu.Unlock()
		switch st {
		case StateReceivedProposal, StateReceivedProposalRequest, StateAccepting, StateConnecting:
			if time.Now().After(deadline) {
				return 0, false
			}
			time.Sleep(5 * time.Millisecond)
		default:
			return 0, false
		}
	}
}

// holdChange tells whether the set of held streams changed, and whether
// any is held now.
func holdChange(before, after map[Stream]bool) (changed, anyHeld bool) {
	for st, h := range after {
		if h {
			anyHeld = true
		}
		if before[st] != h {
			changed = true
		}
	}
	return changed, anyHeld
}

// reofferTo answers a re-INVITE without SDP: Reset every stream, offer in
// the 200, apply the answer the ACK carries.
func (s *Session) reofferTo(ctx context.Context, req *sip.Request, tx sip.ServerTransaction) {
	for _, st := range s.Streams() {
		_ = st.Reset(ctx, &sdk.ResetRequest{StreamIndex: s.streamIndex(st)})
	}
	offer, err := s.buildOffer(ctx)
	if err != nil {
		_ = s.m.cfg.Signalling.Respond(tx, req, 500, "Server Internal Error", nil)
		return
	}
	ack, err := s.answer2xx(ctx, tx, req, []byte(offer), nil)
	if err != nil || ack == nil {
		return
	}
	answer := string(ack.Body())
	if _, err := sdk.ParseSDP(answer); err != nil {
		s.m.log.Warn("ACK without a usable SDP answer", "error", err)
		return
	}
	s.mu.Lock()
	s.remoteSDP = answer
	s.mu.Unlock()
	s.updateStreams(ctx, offer, answer)
}

// answer2xx sends the 2xx to an INVITE and waits for its ACK. Over UDP the
// 2xx is sent again at T1, 2·T1, … (at most T2 apart) until the ACK comes,
// which sipgo's transaction layer leaves to the UAS core (RFC 3261
// §13.3.1.4). It gives up after 64·T1 and reports no ACK.
// sent, if not nil, is called with the outcome of sending the first 2xx.
func (s *Session) answer2xx(ctx context.Context, tx sip.ServerTransaction, req *sip.Request, body []byte, sent func(error)) (*sip.Request, error) {
	t1, t2 := s.m.cfg.timerT1(), 4*time.Second
	sig := s.m.cfg.Signalling
	ct := sip.NewHeader("Content-Type", "application/sdp")
	err := sig.Respond(tx, req, 200, "OK", body, ct)
	if sent != nil {
		sent(err)
	}
	if err != nil {
		return nil, err
	}
	reliable := !strings.EqualFold(req.Transport(), "UDP")
	interval := t1
	resend := time.NewTimer(interval)
	defer resend.Stop()
	if reliable {
		resend.Stop()
	}
	giveUp := time.NewTimer(64 * t1)
	defer giveUp.Stop()
	for {
		select {
		case ack := <-s.acks:
			return ack, nil
		case <-resend.C:
			// Stateless: the transaction ended with the 2xx.
			_ = sig.Respond(nil, req, 200, "OK", body, ct)
			interval = min(2*interval, t2)
			resend.Reset(interval)
		case <-giveUp.C:
			return nil, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
