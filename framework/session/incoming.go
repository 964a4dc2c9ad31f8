package session

import (
	"errors"
	"fmt"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sipstreams/sipstreams/sdk"
)

// incomingCall is the operation of an incoming session until it started
// or failed: offered to the application, accepted (streams initializing,
// our 2xx waiting for its ACK, streams starting), or rejected.
type incomingCall struct {
	r       *serverReq
	offer   string                 // the INVITE's SDP; empty when it had none (we offer in the 2xx)
	parsed  *sdpSessionDescription // offer, parsed
	phase   phase
	streams []Stream // the streams being accepted
	ringing bool
}

// incoming takes a new INVITE: the session is incoming once a stream
// accepted one of the offer's m-lines, or at once for an INVITE without
// SDP (§2.4.5: the application's streams then make our offer).
func (s *Session) incoming(r *serverReq, offerText string, offer *sdpSessionDescription) {
	defer r.setup.done(true) // the host's part of the setup: dispatching the offer
	req := r.req
	s.invite = req
	s.origin.ip = localAddress(req)
	s.publish(func() {
		s.state = StateIncoming
		s.localIP = s.origin.ip
		if from := req.From(); from != nil {
			s.remoteURI = from.Address
			s.remoteTag, _ = from.Params.Get("tag")
			s.remoteTarget = from.Address
		}
		if subj := req.GetHeader("Subject"); subj != nil {
			s.subject = subj.Value()
		}
		s.route = routeBack(req)
		s.peerAddress = req.Source()
		s.requestHeaders = headersOf(req)
	})
	s.learnRemote(req)
	s.remoteSDP = offerText
	var proposed []Stream
	if offer != nil {
		var busy bool
		proposed, busy = s.dispatch(r.setup, offerText, offer, nil)
		if len(proposed) == 0 && busy {
			// A stream that would take the call cannot now: the host is
			// at capacity, not the offer at fault (issue 15).
			s.m.overload.refuseBusy()
			s.respond(r, 503, "Service Unavailable", nil, sip.NewHeader("Retry-After", retryAfter),
				sip.NewHeader("Warning", `399 - "at capacity: no stream can be opened now"`))
			s.terminate()
			return
		}
		if len(proposed) == 0 {
			s.respond(r, 488, "Not Acceptable Here", nil)
			s.terminate()
			return
		}
	}
	a := &incomingCall{r: r, offer: offerText, parsed: offer, phase: phaseOffered}
	s.op = a
	s.setStreams(nil, proposed)
	cancelled := !r.onCancel(func() { s.q.push(func() { s.gotCancel(a) }) })
	data := NewIncomingData{Streams: proposed, Headers: s.requestHeaders}
	if s.replaced != nil {
		d := s.replaced.DialogID()
		data.ReplacedDialog = &d
	}
	s.post(SIPSessionNewIncoming, data)
	if s.replaced != nil {
		s.post(SIPSessionNewIncomingFromTransfer, IncomingFromTransferData{CallID: s.callID, ToTag: s.localTag, FromTag: s.remoteTag, ReplacedDialog: *data.ReplacedDialog})
	}
	if cancelled {
		// The CANCEL came before we could listen for it (sipgo answered
		// it): the session ends as one cancelled while incoming.
		s.gotCancel(a)
	}
}

// dispatch asks the stream source, for every m-line with a port (only
// lines when given), for a stream (reference §1.3); the streams come
// prepared (initialized, answer ready) and observed. busy tells whether a
// line was refused because its plugin is at a resource limit
// (sdk.ErrBusy). su is the new session's admission (nil for a proposal).
func (s *Session) dispatch(su *setup, offerText string, offer *sdpSessionDescription, lines []int) (streams []Stream, busy bool) {
	if lines == nil {
		for i := range offer.MediaDescriptions {
			lines = append(lines, i)
		}
	}
	info := s.info()
	for _, i := range lines {
		if mediaPort(offer, i) == 0 {
			continue
		}
		ctx, cancel := s.rpc()
		st, err := s.m.cfg.Streams.NewFromSDP(withSetup(ctx, su), &sdk.NewFromSDPRequest{
			Account:     s.acc.sdk(),
			RemoteSDP:   offerText,
			Offer:       offer,
			StreamIndex: i,
			Prepare:     &sdk.Prepare{Session: info, Direction: string(Incoming), LocalMedia: true},
		})
		cancel()
		if err != nil {
			s.m.log.Debug("m-line not accepted", "index", i, "error", err)
			busy = busy || errors.Is(err, sdk.ErrBusy)
			continue
		}
		s.index[st] = i
		s.observe(st)
		streams = append(streams, st)
	}
	return streams, busy
}

// SendRingIndication sends 180 Ringing (allowed while incoming or while
// a proposal of the peer waits for an answer).
func (s *Session) SendRingIndication() error {
	return s.do("send_ring_indication", func() error {
		if err := s.require("send_ring_indication", StateIncoming, StateReceivedProposal); err != nil {
			return err
		}
		switch op := s.op.(type) {
		case *incomingCall:
			op.ringing = true
			s.respond(op.r, 180, "Ringing", nil)
		case *remoteReinvite:
			s.respond(op.r, 180, "Ringing", nil)
		}
		return nil
	})
}

// Accept answers the incoming session with streams (opts: AsFocus,
// WithHeaders for the 200): a subset of
// ProposedStreams (the others are refused in the answer), or, when the
// INVITE carried no SDP, the application's own streams, which make our
// offer in the 2xx (the ACK carries the answer).
func (s *Session) Accept(streams []Stream, opts ...ConnectOption) error {
	if len(streams) == 0 {
		return ErrNoStreams
	}
	return s.do("accept", func() error {
		if err := s.require("accept", StateIncoming); err != nil {
			return err
		}
		var o connectOptions
		for _, opt := range opts {
			opt(&o)
		}
		s.extra = o.headers
		s.publish(func() { s.localFocus = o.focus })
		a := s.op.(*incomingCall)
		if a.offer != "" {
			keep := setOf(streams)
			var chosen, dropped []Stream
			for _, st := range s.proposed {
				if keep[st] {
					chosen = append(chosen, st)
				} else {
					dropped = append(dropped, st)
				}
			}
			if len(chosen) == 0 {
				return fmt.Errorf("%w: none of the streams given was proposed", ErrNoStreams)
			}
			s.end(dropped)
			streams = chosen
		} else {
			for i, st := range streams {
				s.index[st] = i
			}
			s.observe(streams...)
		}
		a.streams = streams
		a.phase = phaseInitializing
		s.publish(func() {
			s.state = StateAccepting
			s.proposed = streams
		})
		dir := Incoming
		if a.offer == "" {
			dir = Outgoing
		}
		s.initialize(streams, dir, func(ok []Stream, failed []streamFailure) { s.acceptInitialized(a, ok, failed) })
		return nil
	})
}

func (s *Session) acceptInitialized(a *incomingCall, ok []Stream, failed []streamFailure) {
	if s.op != a {
		s.end(ok)
		return
	}
	s.end(streamsOf(failed))
	var body string
	var err error
	if a.offer == "" {
		if len(ok) > 0 {
			body, err = s.buildOffer(ok)
		}
	} else {
		body, err = s.buildAnswer(a.offer, a.parsed, ok)
	}
	switch {
	case len(ok) == 0 || body == "":
		s.end(ok)
		s.respond(a.r, 488, "Not Acceptable Here", nil)
		s.fail(Local, 488, "Not Acceptable Here", "media stream did not initialize: "+failureList(failed), nil)
		return
	case err != nil:
		s.end(ok)
		s.respond(a.r, 500, "Server Internal Error", nil)
		s.fail(Local, 500, "Server Internal Error", "SDP negotiation failed: "+err.Error(), nil)
		return
	}
	s.localSDP = body
	a.streams = ok
	if err := s.answer2xx(a.r, []byte(body), func(ack *sip.Request) { s.incomingAcked(a, ack) }, func() { s.incomingNoAck(a) }); err != nil {
		s.end(ok)
		s.fail(Local, 500, "", "SIP core error: "+err.Error(), nil)
		return
	}
	a.phase = phaseWaitingAck
	s.setStreams(nil, ok)
	s.post(SIPSessionWillStart, nil)
}

// incomingAcked starts the session whose 2xx was acknowledged; ack is
// nil when the peer's BYE stood for it (byeBeforeAck).
func (s *Session) incomingAcked(a *incomingCall, ack *sip.Request) {
	if s.op != a {
		return
	}
	acked := AckYes
	if ack == nil {
		acked = AckUnknown
	}
	local, remote := s.localSDP, a.offer
	accepted := a.streams
	if a.offer == "" {
		// Our offer went in the 2xx: the ACK carries the answer.
		remote = string(ack.Body())
		if err := s.checkAnswerText(remote); err != nil {
			s.end(accepted)
			s.byeAndForget()
			s.fail(Local, 0, "", "SDP negotiation failed: "+err.Error(), nil)
			return
		}
		var refused []Stream
		accepted, refused = s.splitByAnswer(accepted, remote)
		s.end(refused)
		s.remoteSDP = remote
	}
	a.phase = phaseStarting
	s.start(accepted, local, remote, func(failed []streamFailure) {
		if s.op == a {
			s.started(accepted, failed, ProcessTransactionData{Originator: Remote, Method: "INVITE", Code: 200, Reason: "OK", AckReceived: acked})
		}
	})
}

// incomingNoAck gives up a session whose 2xx was never acknowledged: the
// reference's BYE says why (§2.2).
func (s *Session) incomingNoAck(a *incomingCall) {
	if s.op != a {
		return
	}
	s.end(a.streams)
	s.byeAndForget(`SIP;cause=500;text="Missing ACK"`)
	s.fail(Remote, 0, "", "missing ACK", nil)
}

// Reject refuses the incoming session with code (default 603) and reason.
func (s *Session) Reject(code int, reason string) error {
	if code == 0 {
		code = 603
	}
	if code < 300 || code > 699 {
		return fmt.Errorf("session: reject code %d is not a failure code", code)
	}
	if reason == "" {
		reason = reasonPhrase(code)
	}
	return s.do("reject", func() error {
		if err := s.require("reject", StateIncoming); err != nil {
			return err
		}
		s.reject(code, reason)
		return nil
	})
}

// reject answers the incoming INVITE with code, waits up to AckTimeout
// for the ACK and fails the session (§2.4).
func (s *Session) reject(code int, reason string) {
	a := s.op.(*incomingCall)
	a.phase = phaseWaitingAck
	s.setState(StateTerminating)
	s.end(s.proposed)
	r, tx := a.r, a.r.tx
	// The waiter listens before the response goes: over TCP and TLS sipgo
	// hands the ACK only to a receiver already waiting, and ends the
	// transaction at once.
	listening, sent := make(chan struct{}), make(chan struct{})
	s.m.wg.Add(1)
	go func() {
		defer s.m.wg.Done()
		ack := AckNo
		t := time.NewTimer(AckTimeout)
		defer t.Stop()
		close(listening)
		select {
		case <-tx.Acks():
			ack = AckYes
			tx.Terminate() // as Manager.refuse does
		case <-t.C:
		case <-s.ctx.Done():
		}
		<-sent
		r.release()
		s.q.push(func() {
			if s.op != a {
				return
			}
			s.post(SIPSessionDidProcessTransaction, ProcessTransactionData{Originator: Remote, Method: "INVITE", Code: code, Reason: reason, AckReceived: ack})
			s.fail(Local, code, reason, "user request", nil)
		})
	}()
	<-listening
	s.respondHeld(r, code, reason, nil)
	close(sent)
}

// gotCancel handles the caller's CANCEL of its INVITE (sipgo answered 200
// and 487). It ends a session not answered yet; one whose 2xx is out is
// left alone (RFC 3261 §9.2).
func (s *Session) gotCancel(a *incomingCall) {
	if s.op != a || (a.phase != phaseOffered && a.phase != phaseInitializing) {
		return
	}
	if a.r.final() {
		a.r.release() // sipgo sent the 487
	}
	s.setState(StateTerminating)
	s.end(append(s.proposed, without(a.streams, s.proposed)...))
	s.post(SIPSessionDidProcessTransaction, ProcessTransactionData{Originator: Remote, Method: "INVITE", Code: 487, Reason: "Session Cancelled", AckReceived: AckUnknown})
	s.fail(Remote, 487, "Session Cancelled", "Session Cancelled", nil)
}
