package session

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/sdp/v3"
	"github.com/sipstreams/sipstreams/sdk"
)

// buildOffer makes a new offer of the session: every active stream's and
// every stream of extra's offer at its m-line, refused lines kept with
// port 0 (RFC 3264 §8: m-lines are never removed).
func (s *Session) buildOffer(extra []Stream) (string, error) {
	n := 0
	var prev *sdp.SessionDescription
	if s.localSDP != "" {
		p, err := sdk.ParseSDP(s.localSDP)
		if err != nil {
			return "", err
		}
		prev, n = p, len(p.MediaDescriptions)
	}
	at := map[int]Stream{}
	for _, st := range append(append([]Stream(nil), s.streams...), extra...) {
		i := s.index[st]
		at[i] = st
		n = max(n, i+1)
	}
	media := make([]*sdp.MediaDescription, n)
	for i := range media {
		st := at[i]
		if st == nil {
			if prev == nil || i >= len(prev.MediaDescriptions) {
				return "", fmt.Errorf("session: no stream for m-line %d", i)
			}
			media[i] = rejected(prev.MediaDescriptions[i])
			continue
		}
		text := ""
		if p := st.Prepared(); p.Done() && p.Media != "" && !contains(s.streams, st) && s.localSDP == "" {
			text = p.Media // the initial offer, prepared with the stream
		} else {
			ctx, cancel := s.rpc()
			res, err := st.GetLocalMedia(ctx, &sdk.GetLocalMediaRequest{ForOffer: true, StreamIndex: i})
			cancel()
			if err != nil {
				return "", fmt.Errorf("%s stream: %w", st.Type(), err)
			}
			text = res.Media
		}
		md, err := sdk.ParseMedia(text)
		if err != nil {
			return "", fmt.Errorf("%s stream returned bad media: %w", st.Type(), err)
		}
		media[i] = md
	}
	text, err := s.origin.build(media)
	if err == nil {
		s.localSDP = text
	}
	return text, err
}

// buildAnswer answers offerText (offer, parsed, or nil to parse it here)
// with the active streams and extra (newly accepted ones, whose prepared
// answer is used when they have one).
func (s *Session) buildAnswer(offerText string, offer *sdpSessionDescription, extra []Stream) (string, error) {
	if offer == nil {
		var err error
		if offer, err = sdk.ParseSDP(offerText); err != nil {
			return "", err
		}
	}
	media := map[int]string{}
	fresh := setOf(extra)
	for _, st := range append(append([]Stream(nil), s.streams...), extra...) {
		i := s.index[st]
		if mediaPort(offer, i) == 0 {
			continue
		}
		if p := st.Prepared(); fresh[st] && p.Done() && p.Media != "" {
			media[i] = p.Media
			continue
		}
		ctx, cancel := s.rpc()
		res, err := st.GetLocalMedia(ctx, &sdk.GetLocalMediaRequest{RemoteSDP: offerText, StreamIndex: i})
		cancel()
		if err != nil {
			return "", fmt.Errorf("%s stream: %w", st.Type(), err)
		}
		media[i] = res.Media
	}
	if len(media) == 0 {
		return "", nil
	}
	text, err := s.origin.answer(offer, media)
	if err == nil {
		s.localSDP = text
	}
	return text, err
}

// ---------------------------------------------------------------- our re-INVITEs

// reinviteKind is what one of our re-INVITEs is for.
type reinviteKind int

const (
	kindHold reinviteKind = iota
	kindUnhold
	kindRemove
	kindAdd
	kindRenegotiate
)

// localReinvite is the operation of one of our re-INVITEs: hold, unhold,
// stream removal, an add-streams proposal or a renegotiation.
type localReinvite struct {
	kind     reinviteKind
	streams  []Stream // added (proposed) or removed
	timeout  time.Duration
	phase    phase
	attempt  int
	req      *sip.Request
	tx       sip.ClientTransaction
	offer    string
	canceled bool // CancelProposal, or the timeout, sent a CANCEL
	byUser   bool // CancelProposal
	cancelTx bool
	timer    *time.Timer
}

// glareAttempts bounds the tries of a re-INVITE refused with 491.
const glareAttempts = 3

// glareWait is how long to wait before retrying a re-INVITE refused with
// 491 (RFC 3261 §14.1): 2.1–4 s for the Call-ID's owner, else 0–2 s.
func (s *Session) glareWait() time.Duration {
	if s.direction == Outgoing {
		return 2100*time.Millisecond + time.Duration(rand.Int64N(int64(1900*time.Millisecond)))
	}
	return time.Duration(rand.Int64N(int64(2 * time.Second)))
}

// reinvite sends (or sends again, after glare) the re-INVITE of lr with
// a fresh offer.
func (s *Session) reinvite(lr *localReinvite) {
	s.op = lr
	s.setState(StateSendingProposal)
	lr.attempt++
	lr.phase = phaseInviting
	var extra []Stream
	if lr.kind == kindAdd {
		extra = lr.streams
	}
	offer, err := s.buildOffer(extra)
	if err != nil {
		s.reinviteDone(lr, nil, err)
		return
	}
	lr.offer = offer
	req := s.newRequest(sip.INVITE, s.remoteTarget)
	req.AppendHeader(s.contact())
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody([]byte(offer))
	lr.req, lr.tx, lr.cancelTx = req, nil, false
	s.stopTimer(lr.timer)
	lr.timer = s.after(lr.timeout, func() { s.reinviteTimeout(lr, req) })
	route, sig := s.route, s.m.cfg.Signalling
	s.send(s.m.life, req, route, txEvents{
		orphan: func(res *sip.Response) {
			// Answered once the session was gone: a 2xx still gets its
			// ACK (sipgo's transaction ACKs a failure).
			if res.StatusCode < 300 {
				_ = sig.Write(ackFor(req, res), route)
			}
		},
		sent: func(tx sip.ClientTransaction, err error) {
			if s.op != lr || lr.req != req {
				return
			}
			if err != nil {
				s.reinviteDone(lr, nil, err)
				return
			}
			lr.tx = tx
			if lr.canceled && !lr.cancelTx {
				lr.cancelTx = true
				s.fireAndForget(cancelFor(req), s.route, ShortReinviteTimeout)
			}
		},
		response: func(res *sip.Response) {
			if res.StatusCode < 200 {
				return
			}
			if s.op != lr || lr.req != req {
				// Abandoned (the session ends): a 2xx still gets its ACK.
				if res.StatusCode < 300 {
					s.sendAck(req)
				}
				return
			}
			s.reinviteResponse(lr, res)
		},
		failed: func(err error) {
			if s.op == lr && lr.req == req {
				s.reinviteDone(lr, nil, err)
			}
		},
	})
}

// reinviteTimeout CANCELs a re-INVITE without answer; if the CANCEL gets
// no final response either, the re-INVITE is abandoned.
func (s *Session) reinviteTimeout(lr *localReinvite, req *sip.Request) {
	if s.op != lr || lr.req != req || lr.phase != phaseInviting {
		return
	}
	if lr.canceled {
		s.reinviteDone(lr, nil, fmt.Errorf("session: re-INVITE timed out"))
		return
	}
	s.cancelReinvite(lr)
	lr.timer = s.after(cancelGrace+s.m.cfg.timerT1(), func() { s.reinviteTimeout(lr, req) })
}

func (s *Session) cancelReinvite(lr *localReinvite) {
	lr.canceled = true
	if lr.tx != nil && !lr.cancelTx {
		lr.cancelTx = true
		s.fireAndForget(cancelFor(lr.req), s.route, ShortReinviteTimeout)
	}
}

func (s *Session) reinviteResponse(lr *localReinvite, res *sip.Response) {
	s.stopTimer(lr.timer)
	if res.StatusCode < 300 {
		s.sendAck(lr.req)
		if c := contactOf(res); c != nil {
			s.publish(func() { s.remoteTarget, s.remoteFocus = c.Address, isFocus(c) })
		}
	}
	if res.StatusCode == 491 && lr.attempt < glareAttempts && !lr.canceled {
		// No transaction of ours is pending while we wait: the peer's own
		// re-INVITE may go through meanwhile (RFC 3261 §14.1).
		s.op = nil
		s.retrying = lr
		s.setState(StateConnected)
		s.after(s.glareWait(), func() { s.retryReinvite(lr) })
		return
	}
	s.reinviteDone(lr, res, nil)
}

// retryReinvite sends a re-INVITE again after glare, once the session is
// idle (the peer's offer/answer may be in progress).
func (s *Session) retryReinvite(lr *localReinvite) {
	if s.retrying != lr {
		return
	}
	if s.op != nil {
		s.later(func() { s.retryReinvite(lr) })
		return
	}
	s.retrying = nil
	if s.state != StateConnected {
		return
	}
	s.reinvite(lr)
}

// reinviteDone completes one of our re-INVITEs with its final response
// (res) or the error that stood for one.
func (s *Session) reinviteDone(lr *localReinvite, res *sip.Response, err error) {
	s.stopTimer(lr.timer)
	if lr.kind == kindAdd {
		s.proposalAnswered(lr, res, err)
		return
	}
	s.op = nil // hold, unhold or removal: done on the wire
	ok := err == nil && res.StatusCode < 300
	if ok {
		s.remoteSDP = string(res.Body())
		if lr.kind == kindRemove {
			s.end(lr.streams)
		}
		s.update(lr.offer, s.remoteSDP)
	}
	s.setState(StateConnected)
	switch {
	case ok && lr.canceled:
		// The 200 crossed our CANCEL (reference §2.2): end.
		s.endLocal("")
	case lr.kind == kindRenegotiate:
		code, reason := 408, "Request Timeout"
		if res != nil {
			code, reason = res.StatusCode, res.Reason
		}
		if !ok {
			s.m.log.Info("renegotiation re-INVITE failed", "error", err, "response", res)
		}
		s.post(SIPSessionDidProcessTransaction, ProcessTransactionData{Originator: Local, Method: "INVITE", Code: code, Reason: reason})
		s.idle()
	case !ok && lr.kind == kindRemove:
		// Any failure of a removal ends the session (§2.7).
		s.end(lr.streams)
		s.endLocal("")
	case !ok:
		// The hold did not go through: the streams keep negotiating the
		// old directions at the next offer.
		s.m.log.Info("hold re-INVITE failed", "error", err, "response", res)
		s.idle()
	case lr.kind == kindRemove:
		s.postRenegotiate(Local, nil, lr.streams)
		s.idle()
	default:
		hold := lr.kind == kindHold
		s.hold.local = hold
		part := false
		if hold {
			part = partial(s.holdFlags(true))
		}
		s.post(SIPSessionDidChangeHoldState, HoldStateData{Originator: Local, OnHold: hold, Partial: part})
		s.idle()
	}
}

// Hold puts the session's streams on hold: each hold-capable stream's
// Hold, then a re-INVITE whose offer carries the hold directions (§3.5).
// Asked while an offer/answer is in progress (or before the session is
// connected), it takes effect when that ends (§2.7). Outcome:
// SIPSessionDidChangeHoldState(originator local).
func (s *Session) Hold() error { return s.do("hold", func() error { return s.requestHold(true) }) }

// Unhold takes the session's streams off hold, as Hold puts them on.
func (s *Session) Unhold() error { return s.do("unhold", func() error { return s.requestHold(false) }) }

// holdIntent is what the application asked of hold: local is the outcome
// of our last hold re-INVITE, want the latest request, queued whether a
// deferred request waits for the session to be idle.
type holdIntent struct {
	local, want, queued bool
}

func (s *Session) requestHold(hold bool) error {
	call := map[bool]string{true: "hold", false: "unhold"}[hold]
	switch s.state {
	case StateNone, StateTerminating, StateTerminated:
		return &IllegalStateError{Call: call, State: s.state}
	}
	s.hold.want = hold
	if s.state == StateConnected && !s.busy() {
		s.startHold(hold)
		return nil
	}
	if !s.hold.queued {
		s.hold.queued = true
		s.later(func() {
			s.hold.queued = false
			if s.state == StateConnected && s.hold.want != s.hold.local {
				s.startHold(s.hold.want)
			}
		})
	}
	return nil
}

func (s *Session) startHold(hold bool) {
	kind := kindUnhold
	if hold {
		kind = kindHold
	}
	for _, st := range s.streams {
		if !st.HoldSupported() {
			continue
		}
		ctx, cancel := s.rpc()
		if hold {
			_ = st.Hold(ctx)
		} else {
			_ = st.Unhold(ctx)
		}
		cancel()
	}
	s.reinvite(&localReinvite{kind: kind, timeout: ShortReinviteTimeout})
}

// Renegotiate sends a re-INVITE whose offer is every active stream's
// offer as it is now, changing nothing else: a stream whose offer changed
// since the last offer/answer (an audio stream whose codec list took in a
// codec module just added, audio.RefreshCodecs) moves onto what the
// answer picks, through its Update. A refused re-INVITE leaves the
// streams as they were (RFC 3261 §14.1). The session must be connected
// with no offer/answer in progress (else an IllegalStateError). Outcome:
// SIPSessionDidProcessTransaction (originator local, method INVITE) with
// the final response, 408 when none came.
func (s *Session) Renegotiate() error {
	return s.do("renegotiate", func() error {
		if err := s.requireIdle("renegotiate"); err != nil {
			return err
		}
		s.reinvite(&localReinvite{kind: kindRenegotiate, timeout: ShortReinviteTimeout})
		return nil
	})
}

// RemoveStreams removes streams from the session with a re-INVITE that
// sets their m-lines' port to 0. Any failure ends the whole session
// (reference §2.7).
func (s *Session) RemoveStreams(streams []Stream) error {
	return s.do("remove_stream", func() error {
		if err := s.requireIdle("remove_stream"); err != nil {
			return err
		}
		for _, st := range streams {
			if !s.active(st) {
				return fmt.Errorf("session: remove_stream: %s stream is not active in the session", st.Type())
			}
		}
		s.removeStreams(streams)
		return nil
	})
}

// requireIdle checks that the session is connected with nothing in
// progress, as AddStreams and RemoveStreams need.
func (s *Session) requireIdle(call string) error {
	if s.retrying != nil {
		return &IllegalStateError{Call: call, State: StateSendingProposal}
	}
	return s.require(call, StateConnected)
}

func (s *Session) removeStreams(streams []Stream) {
	s.setStreams(without(s.streams, streams), s.proposed)
	s.deactivate(streams)
	s.reinvite(&localReinvite{kind: kindRemove, streams: streams, timeout: ShortReinviteTimeout})
}

// ---------------------------------------------------------------- the peer's re-INVITEs

// remoteReinvite is the operation of a re-INVITE of the peer: a proposal
// waiting for the application, our 2xx waiting for its ACK, new streams
// starting.
type remoteReinvite struct {
	r        *serverReq
	offer    string                 // the offer; empty for a re-INVITE without SDP (we offer)
	parsed   *sdpSessionDescription // offer, parsed
	phase    phase
	proposed []Stream
	accepted []Stream
	removed  []Stream
	heldWas  map[Stream]bool
	timer    *time.Timer
}

// gotReinvite handles an in-dialog INVITE (reference §2.7).
func (s *Session) gotReinvite(r *serverReq) {
	switch op := s.op.(type) {
	case nil:
		if s.state != StateConnected {
			s.respond(r, 481, "Call/Transaction Does Not Exist", nil)
			return
		}
		s.handleReinvite(r)
	case *outgoingCall, *incomingCall:
		if s.starting() {
			// The initial offer/answer is done on the wire but the
			// session is still starting: the peer may re-INVITE at once.
			s.later(func() { s.gotReinvite(r) })
			return
		}
		s.respond(r, 491, "Request Pending", nil)
	case *localReinvite:
		// Our own offer is outstanding: glare (RFC 3261 §14.2).
		s.respond(r, 491, "Request Pending", nil)
	case *remoteReinvite:
		if op.phase == phaseWaitingAck || op.phase == phaseStarting {
			// Its ACK is on its way (or the streams start): take this
			// one after.
			s.later(func() { s.gotReinvite(r) })
			return
		}
		s.respond(r, 500, "Server Internal Error", nil, sip.NewHeader("Retry-After", "1"))
	default:
		s.respond(r, 481, "Call/Transaction Does Not Exist", nil)
	}
}

func (s *Session) warning(text string) sip.Header {
	return sip.NewHeader("Warning", fmt.Sprintf(`399 %s "%s"`, s.m.cfg.UserAgent, text))
}

func (s *Session) handleReinvite(r *serverReq) {
	body := string(r.req.Body())
	if body == "" {
		s.reofferTo(r)
		return
	}
	offer, err := sdk.ParseSDP(body)
	if err != nil {
		s.respond(r, 400, "Bad Request", nil, sip.NewHeader("Warning", `399 - "malformed SDP"`))
		return
	}
	if n := len(offer.MediaDescriptions); n > s.m.cfg.maxMediaLines() {
		s.respond(r, 488, "Not Acceptable Here", nil, tooManyLines(n, s.m.cfg.maxMediaLines()))
		return
	}
	current, _ := sdk.ParseSDP(s.remoteSDP)
	if current != nil && len(offer.MediaDescriptions) < len(current.MediaDescriptions) {
		s.respond(r, 488, "Not Acceptable Here", nil, s.warning("Streams cannot be deleted from the SDP"))
		return
	}
	activeAt := map[int]Stream{}
	for _, st := range s.streams {
		activeAt[s.index[st]] = st
	}
	var removed []Stream
	var added []int
	for i := range offer.MediaDescriptions {
		st := activeAt[i]
		was := 0
		if current != nil {
			was = mediaPort(current, i)
		}
		now := mediaPort(offer, i)
		switch {
		case current == nil || i >= len(current.MediaDescriptions) || (was == 0 && now > 0):
			if now > 0 {
				added = append(added, i)
			}
		case st != nil && now == 0:
			removed = append(removed, st)
		case st != nil:
			ctx, cancel := s.rpc()
			ok, err := st.ValidateUpdate(ctx, &sdk.ValidateUpdateRequest{RemoteSDP: body, StreamIndex: i})
			cancel()
			if err != nil || !ok.OK {
				s.respond(r, 488, "Not Acceptable Here", nil, s.warning(fmt.Sprintf("Failed to update media stream index %d", i)))
				return
			}
		}
	}
	if len(added) > 0 && len(removed) > 0 {
		s.respond(r, 488, "Not Acceptable Here", nil, s.warning("Both removing AND adding a media stream is currently not supported"))
		return
	}
	if len(added) > 0 {
		s.receiveProposal(r, body, offer, added)
		return
	}
	// Removals, hold and unhold, port changes: answered at once.
	rr := &remoteReinvite{r: r, offer: body, parsed: offer, removed: removed, heldWas: s.holdFlags(false)}
	s.op = rr
	s.setState(StateReceivedProposal)
	s.setStreams(without(s.streams, removed), s.proposed)
	answer, err := s.buildAnswer(body, offer, nil)
	if err != nil {
		s.setStreams(append(s.streams, removed...), s.proposed)
		s.respond(r, 500, "Server Internal Error", nil, s.warning(err.Error()))
		s.setState(StateConnected)
		s.idle()
		return
	}
	if answer == "" { // every line refused: answer with them all at port 0
		answer, _ = s.origin.answer(offer, nil)
		s.localSDP = answer
	}
	rr.phase = phaseWaitingAck
	err = s.answer2xx(r, []byte(answer), func(*sip.Request) { s.reinviteApplied(rr, answer) }, func() {
		s.m.log.Warn("no ACK for our 2xx to a re-INVITE")
		s.reinviteApplied(rr, answer)
	})
	if err != nil {
		s.setState(StateConnected)
		s.idle()
	}
}

// reinviteApplied applies an accepted offer of the peer once its ACK came
// and posts the outcome, the session connected again first so that an
// observer may act on it at once.
func (s *Session) reinviteApplied(rr *remoteReinvite, answer string) {
	if s.op != rr {
		return
	}
	s.remoteSDP = rr.offer
	s.end(rr.removed)
	s.update(answer, rr.offer)
	heldNow := s.holdFlags(false)
	s.setState(StateConnected)
	if len(rr.removed) > 0 {
		s.postRenegotiate(Remote, nil, rr.removed)
	}
	if changed, on := holdChange(rr.heldWas, heldNow); changed {
		s.post(SIPSessionDidChangeHoldState, HoldStateData{Originator: Remote, OnHold: on, Partial: on && partial(heldNow)})
	}
	s.idle()
}

// reofferTo answers a re-INVITE without SDP: Reset every stream, offer in
// the 200, apply the answer the ACK carries (§2.7).
func (s *Session) reofferTo(r *serverReq) {
	rr := &remoteReinvite{r: r}
	s.op = rr
	s.setState(StateReceivedProposalRequest)
	for _, st := range s.streams {
		ctx, cancel := s.rpc()
		_ = st.Reset(ctx, &sdk.ResetRequest{StreamIndex: s.index[st]})
		cancel()
	}
	offer, err := s.buildOffer(nil)
	if err != nil {
		s.respond(r, 500, "Server Internal Error", nil)
		s.setState(StateConnected)
		s.idle()
		return
	}
	rr.phase = phaseWaitingAck
	done := func() {
		s.setState(StateConnected)
		s.idle()
	}
	err = s.answer2xx(r, []byte(offer), func(ack *sip.Request) {
		if s.op != rr {
			return
		}
		answer := string(ack.Body())
		if err := s.checkAnswerText(answer); err != nil {
			s.m.log.Warn("ACK without a usable SDP answer", "error", err)
			done()
			return
		}
		s.remoteSDP = answer
		s.update(offer, answer)
		done()
	}, func() {
		if s.op == rr {
			done()
		}
	})
	if err != nil {
		done()
	}
}
