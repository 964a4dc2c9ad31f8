package session

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/sdp/v3"
	"github.com/sipstreams/sipstreams/framework/engine"
	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/sdk"
)

type sdpSessionDescription = sdp.SessionDescription

// Session is one SIP INVITE session (the reference's Session): its state,
// its streams, and the calls that move it through the state machine.
// Methods return at once; outcomes are posted as SIPSession* notifications
// with the *Session as sender.
type Session struct {
	m         *Manager
	acc       *Account // the identity it calls from or is called at; may be nil
	direction Direction
	callID    string
	localTag  string

	mu             sync.Mutex
	state          State
	streams        []Stream
	proposed       []Stream
	index          map[Stream]int
	route          engine.Route
	localURI       sip.Uri
	remoteURI      sip.Uri
	remoteTarget   sip.Uri // the peer's Contact
	remoteTag      string
	remoteUA       string
	localCSeq      uint32
	origin         *origin
	localSDP       string
	remoteSDP      string
	startTime      time.Time
	endTime        time.Time
	subject        string
	invite         *sip.Request          // our INVITE (outgoing) or theirs (incoming)
	serverTx       sip.ServerTransaction // incoming INVITE, until answered
	answered       chan struct{}         // closed when the incoming INVITE got its final response
	acks           chan *sip.Request
	cancelRequest  chan struct{} // End while connecting
	cancelOnce     sync.Once
	remoteCanceled bool

	endRequested bool         // End came while accepting
	endReason    string       // DidEnd's end_reason when not "user request"
	pendingBye   *sip.Request // a BYE that came while the session was starting
	remoteTurn   uint64       // counts incoming re-INVITE turns (odd: one is being handled)
	applying     sync.Mutex   // held while an accepted remote offer is applied and its outcome posted

	proposalCancel     chan struct{} // CancelProposal of our add-stream re-INVITE
	cancelProposalOnce sync.Once
	decide             chan proposalDecision // the application's answer to a remote proposal
}

func newSession(m *Manager, acc *Account, dir Direction, localTag string) *Session {
	s := &Session{
		m: m, acc: acc, direction: dir, localTag: localTag,
		index:         map[Stream]int{},
		acks:          make(chan *sip.Request, 4),
		answered:      make(chan struct{}),
		cancelRequest: make(chan struct{}),
		origin:        &origin{id: rand.Uint64N(1 << 62), name: m.cfg.UserAgent},
		localCSeq:     uint32(rand.IntN(1 << 16)),
	}
	if acc != nil {
		s.localURI = acc.URI
	}
	return s
}

// State returns the session's state.
func (s *Session) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// Direction tells who sent the initial INVITE.
func (s *Session) Direction() Direction { return s.direction }

// Streams returns the session's active streams.
func (s *Session) Streams() []Stream {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Stream(nil), s.streams...)
}

// ProposedStreams returns the streams of a pending proposal or incoming offer.
func (s *Session) ProposedStreams() []Stream {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Stream(nil), s.proposed...)
}

// RemoteIdentity returns the peer's address (To for outgoing, From for incoming).
func (s *Session) RemoteIdentity() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.remoteURI.String()
}

// LocalIdentity returns our address.
func (s *Session) LocalIdentity() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.localURI.String()
}

// RemoteUserAgent returns the peer's User-Agent or Server header.
func (s *Session) RemoteUserAgent() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.remoteUA
}

// Transport returns the SIP transport of the session.
func (s *Session) Transport() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.route.Transport)
}

// StartTime and EndTime return when the session started and ended (zero if not yet).
func (s *Session) StartTime() time.Time { s.mu.Lock(); defer s.mu.Unlock(); return s.startTime }

// EndTime returns when the session ended.
func (s *Session) EndTime() time.Time { s.mu.Lock(); defer s.mu.Unlock(); return s.endTime }

// Subject returns the Subject header of the session.
func (s *Session) Subject() string { s.mu.Lock(); defer s.mu.Unlock(); return s.subject }

// CallID returns the session's Call-ID.
func (s *Session) CallID() string { return s.callID }

func (s *Session) post(name string, data any) {
	s.m.cfg.Center.Post(notify.Notification{Name: name, Sender: s, Time: time.Now(), Data: data})
}

// transition moves from one of the allowed states to next, or reports why not.
func (s *Session) transition(call string, next State, allowed ...State) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range allowed {
		if s.state == a {
			s.state = next
			return nil
		}
	}
	return &IllegalStateError{Call: call, State: s.state}
}

func (s *Session) setState(st State) {
	s.mu.Lock()
	s.state = st
	if st == StateTerminated {
		s.endTime = time.Now()
	}
	s.mu.Unlock()
}

func (s *Session) info() *sdk.SessionInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &sdk.SessionInfo{
		ID: s.callID, Direction: string(s.direction),
		LocalIdentity: s.localURI.String(), RemoteIdentity: s.remoteURI.String(),
		LocalIP: s.origin.ip,
	}
}

// matchesDialog checks a request's tags against the dialog (RFC 3261 §12.2.2).
func (s *Session) matchesDialog(req *sip.Request) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	from, to := req.From(), req.To()
	if from == nil || to == nil {
		return false
	}
	fromTag, _ := from.Params.Get("tag")
	toTag, _ := to.Params.Get("tag")
	return toTag == s.localTag && (s.remoteTag == "" || fromTag == s.remoteTag)
}

func (s *Session) streamIndex(st Stream) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.index[st]
}

func failureList(fs []streamFailure) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = f.String()
	}
	return strings.Join(parts, "; ")
}

// ---------------------------------------------------------------- outgoing

// Connect starts an outgoing session to `to` over the first working route
// with streams (built with the registry's Create). It returns at once;
// SIPSessionNewOutgoing is posted now and the outcome later.
func (s *Session) Connect(ctx context.Context, to sip.Uri, routes []engine.Route, streams []Stream, subject string) error {
	if len(streams) == 0 {
		return ErrNoStreams
	}
	if len(routes) == 0 {
		return fmt.Errorf("session: no route to %s", to.String())
	}
	if err := s.transition("connect", StateConnecting, StateNone); err != nil {
		return err
	}
	s.mu.Lock()
	s.callID = sip.GenerateTagN(32)
	s.remoteURI = to
	s.route = routes[0]
	s.subject = subject
	s.proposed = append([]Stream(nil), streams...)
	for i, st := range streams {
		s.index[st] = i
	}
	contact := s.m.cfg.Signalling.ContactFor(routes[0], s.localURI.User)
	s.origin.ip = strings.Trim(contact.Host, "[]")
	s.mu.Unlock()
	if !s.m.add(s) {
		s.setState(StateTerminated)
		return fmt.Errorf("session: manager closed")
	}
	s.post(SIPSessionNewOutgoing, NewOutgoingData{Streams: streams})
	s.m.wg.Add(1)
	go func() {
		defer s.m.wg.Done()
		s.runOutgoing(routes, streams, contact)
	}()
	return nil
}

func (s *Session) runOutgoing(routes []engine.Route, streams []Stream, contact sip.Uri) {
	ctx := s.m.life
	ok, failed := initialize(ctx, s.m.cfg.Center, streams, s.info(), Outgoing)
	for _, f := range failed {
		end(ctx, []Stream{f.Stream})
	}
	if len(ok) == 0 {
		s.fail(Local, 0, "", fmt.Sprintf("media stream did not initialize: %s", failureList(failed)), nil)
		return
	}
	var media []*sdp.MediaDescription
	for i, st := range ok {
		text := ""
		if pi, done := preparedOutcome(st); done && pi.Media != "" {
			text = pi.Media
		} else {
			res, err := st.GetLocalMedia(ctx, &sdk.GetLocalMediaRequest{ForOffer: true, StreamIndex: i})
			if err != nil {
				end(ctx, ok)
				s.fail(Local, 0, "", fmt.Sprintf("%s media stream failed: %v", st.Type(), sdk.ReasonOf(err)), nil)
				return
			}
			text = res.Media
		}
		md, err := sdk.ParseMedia(text)
		if err != nil {
			end(ctx, ok)
			s.fail(Local, 0, "", "SDP negotiation failed: "+err.Error(), nil)
			return
		}
		media = append(media, md)
		s.mu.Lock()
		s.index[st] = i
		s.mu.Unlock()
	}
	s.mu.Lock()
	s.proposed = ok
	offer, err := s.origin.build(media)
	s.localSDP = offer
	s.mu.Unlock()
	if err != nil {
		end(ctx, ok)
		s.fail(Local, 0, "", "SDP negotiation failed: "+err.Error(), nil)
		return
	}
	s.sendInvite(ctx, routes, ok, offer, contact)
}

func (s *Session) newRequest(method sip.RequestMethod, target sip.Uri) *sip.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	req := sip.NewRequest(method, target)
	from := &sip.FromHeader{Address: s.localURI, Params: sip.NewParams()}
	if s.acc != nil {
		from.DisplayName = s.acc.DisplayName
	}
	from.Params.Add("tag", s.localTag)
	req.AppendHeader(from)
	to := &sip.ToHeader{Address: s.remoteURI, Params: sip.NewParams()}
	if s.remoteTag != "" {
		to.Params.Add("tag", s.remoteTag)
	}
	req.AppendHeader(to)
	cid := sip.CallIDHeader(s.callID)
	req.AppendHeader(&cid)
	if method != sip.ACK {
		s.localCSeq++
	}
	req.AppendHeader(&sip.CSeqHeader{SeqNo: s.localCSeq, MethodName: method})
	return req
}

func (s *Session) sendInvite(ctx context.Context, routes []engine.Route, streams []Stream, offer string, contact sip.Uri) {
	sig := s.m.cfg.Signalling
	var tx sip.ClientTransaction
	var lastErr error
	newInvite := func(r engine.Route, auth []sip.Header) *sip.Request {
		req := s.newRequest(sip.INVITE, s.remoteURI)
		req.AppendHeader(&sip.ContactHeader{Address: sig.ContactFor(r, contact.User)})
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		if subj := s.Subject(); subj != "" {
			req.AppendHeader(sip.NewHeader("Subject", subj))
		}
		for _, h := range auth {
			req.AppendHeader(h)
		}
		req.SetBody([]byte(offer))
		return req
	}
	for _, r := range routes {
		req := newInvite(r, nil)
		t, err := sig.Request(ctx, req, r)
		if err != nil {
			lastErr = err
			continue
		}
		s.mu.Lock()
		s.invite, s.route = req, r
		s.mu.Unlock()
		tx = t
		break
	}
	if tx == nil {
		end(ctx, streams)
		s.fail(Local, 0, "", fmt.Sprintf("SIP core error: %v", lastErr), nil)
		return
	}
	defer func() { tx.Terminate() }()
	canceled := false
	answered := map[string]bool{} // challenge nonces answered
	var auth []sip.Header         // credentials sent with every later INVITE
	timeout := time.NewTimer(DefaultInviteTimeout)
	defer timeout.Stop()
	cancelReq, life := s.cancelRequest, ctx.Done()
	for {
		select {
		case <-cancelReq:
			cancelReq = nil // closed: read it once
			if !canceled {
				canceled = true
				s.sendCancel(context.WithoutCancel(ctx))
			}
			continue
		case <-life:
			// The manager is closing: cancel, and fail now rather than
			// waiting out the transaction.
			life = nil
			if !canceled {
				canceled = true
				s.sendCancel(context.WithoutCancel(ctx))
			}
			end(context.WithoutCancel(ctx), streams)
			s.fail(Local, 487, "Session Cancelled", "user request", nil)
			return
		case <-timeout.C:
			if !canceled {
				canceled = true
				s.sendCancel(ctx)
			}
			continue
		case <-tx.Done():
			end(ctx, streams)
			reason := "timeout"
			if err := tx.Err(); err != nil {
				reason = err.Error()
			}
			if canceled {
				s.fail(Local, 487, "Session Cancelled", "user request", nil)
			} else {
				s.fail(Local, 408, "Request Timeout", reason, nil)
			}
			return
		case res := <-tx.Responses():
			if res == nil {
				continue
			}
			switch {
			case res.StatusCode < 200:
				if res.StatusCode == 180 {
					s.post(SIPSessionGotRingIndication, nil)
				}
				if res.StatusCode > 100 {
					s.post(SIPSessionGotProvisionalResponse, ProvisionalResponseData{Code: res.StatusCode, Reason: res.Reason})
				}
			case res.StatusCode < 300:
				s.answeredOutgoing(ctx, res, streams, canceled)
				return
			default:
				if next := s.retryWithCredentials(ctx, res, answered, &auth, canceled, newInvite); next != nil {
					tx.Terminate()
					tx = next
					continue
				}
				end(ctx, streams)
				if canceled && res.StatusCode == 487 {
					s.fail(Local, 487, "Session Cancelled", "user request", nil)
					return
				}
				var redirects []string
				if res.StatusCode < 400 {
					for _, h := range res.GetHeaders("Contact") {
						redirects = append(redirects, h.Value())
					}
				}
				s.fail(Remote, res.StatusCode, res.Reason, res.Reason, redirects)
				return
			}
		}
	}
}

// retryWithCredentials answers a 401 or 407 to the INVITE with the
// account's credentials: a new INVITE (same dialog identifiers, next CSeq)
// on the same route, carrying every answer so far. It returns the new
// transaction, or nil when the challenge is not answerable (no
// credentials, a nonce answered before: the credentials were refused).
func (s *Session) retryWithCredentials(ctx context.Context, res *sip.Response, answered map[string]bool, auth *[]sip.Header, canceled bool,
	newInvite func(engine.Route, []sip.Header) *sip.Request) sip.ClientTransaction {
	if canceled || s.acc == nil || (res.StatusCode != sip.StatusUnauthorized && res.StatusCode != sip.StatusProxyAuthRequired) {
		return nil
	}
	s.mu.Lock()
	prev, r := s.invite, s.route
	s.mu.Unlock()
	h, err := engine.AnswerChallenge(prev, res, s.acc.Credentials, answered)
	if err != nil {
		s.m.log.Info("INVITE challenge not answered", "code", res.StatusCode, "error", err)
		return nil
	}
	kept := (*auth)[:0]
	for _, x := range *auth {
		if !strings.EqualFold(x.Name(), h.Name()) {
			kept = append(kept, x)
		}
	}
	*auth = append(kept, h)
	req := newInvite(r, *auth)
	tx, err := s.m.cfg.Signalling.Request(ctx, req, r)
	if err != nil {
		s.m.log.Warn("authenticated INVITE not sent", "error", err)
		return nil
	}
	s.mu.Lock()
	s.invite = req
	s.mu.Unlock()
	return tx
}

// sendCancel cancels our pending INVITE (RFC 3261 §9.1).
func (s *Session) sendCancel(ctx context.Context) {
	s.mu.Lock()
	inv, r := s.invite, s.route
	s.mu.Unlock()
	if inv == nil {
		return
	}
	c := sip.NewRequest(sip.CANCEL, inv.Recipient)
	c.AppendHeader(sip.HeaderClone(inv.Via()))
	c.AppendHeader(sip.HeaderClone(inv.From()))
	c.AppendHeader(sip.HeaderClone(inv.To()))
	c.AppendHeader(sip.HeaderClone(inv.CallID()))
	c.AppendHeader(&sip.CSeqHeader{SeqNo: inv.CSeq().SeqNo, MethodName: sip.CANCEL})
	tx, err := s.m.cfg.Signalling.Request(ctx, c, r)
	if err != nil {
		s.m.log.Warn("CANCEL not sent", "error", err)
		return
	}
	s.m.wg.Add(1)
	go func() {
		defer s.m.wg.Done()
		defer tx.Terminate()
		select {
		case <-tx.Responses():
		case <-tx.Done():
		case <-time.After(ShortReinviteTimeout):
		}
	}()
}

func (s *Session) answeredOutgoing(ctx context.Context, res *sip.Response, streams []Stream, canceled bool) {
	s.mu.Lock()
	if to := res.To(); to != nil {
		s.remoteTag, _ = to.Params.Get("tag")
	}
	if c := res.Contact(); c != nil {
		s.remoteTarget = c.Address
	} else {
		s.remoteTarget = s.remoteURI
	}
	if ua := res.GetHeader("Server"); ua != nil {
		s.remoteUA = ua.Value()
	} else if ua := res.GetHeader("User-Agent"); ua != nil {
		s.remoteUA = ua.Value()
	}
	inviteSeq := s.invite.CSeq().SeqNo
	target, route := s.remoteTarget, s.route
	s.mu.Unlock()
	ack := s.newRequest(sip.ACK, target)
	ack.ReplaceHeader(&sip.CSeqHeader{SeqNo: inviteSeq, MethodName: sip.ACK})
	if err := s.m.cfg.Signalling.Write(ack, route); err != nil {
		s.m.log.Warn("ACK not sent", "error", err)
	}
	if canceled {
		// The 200 crossed our CANCEL: the call exists, end it (reference §2.2).
		end(ctx, streams)
		s.bye(ctx)
		s.fail(Local, 487, "Session Cancelled", "user request", nil)
		return
	}
	answerText := string(res.Body())
	answer, err := sdk.ParseSDP(answerText)
	var offer *sdp.SessionDescription
	if err == nil {
		s.mu.Lock()
		offer, err = sdk.ParseSDP(s.localSDP)
		s.mu.Unlock()
		if err == nil {
			err = checkAnswer(offer, answer)
		}
	}
	if err != nil {
		end(ctx, streams)
		s.bye(ctx)
		s.fail(Local, 0, "", "SDP negotiation failed: "+err.Error(), nil)
		return
	}
	s.mu.Lock()
	s.remoteSDP = answerText
	local := s.localSDP
	s.mu.Unlock()
	s.post(SIPSessionWillStart, nil)
	var accepted, refused []Stream
	for _, st := range streams {
		if mediaPort(answer, s.streamIndex(st)) == 0 {
			refused = append(refused, st)
		} else {
			accepted = append(accepted, st)
		}
	}
	end(ctx, refused)
	if failed := start(ctx, s.m.cfg.Center, accepted, s.streamIndex, local, answerText); len(failed) > 0 || len(accepted) == 0 {
		end(ctx, accepted)
		s.bye(ctx)
		reason := "no stream was accepted"
		if len(failed) > 0 {
			reason = fmt.Sprintf("%s media stream failed: %s", failed[0].Stream.Type(), failed[0].Reason)
		}
		s.fail(Local, 0, "", reason, nil)
		return
	}
	s.mu.Lock()
	s.streams, s.proposed = accepted, nil
	s.state = StateConnected
	s.startTime = time.Now()
	s.mu.Unlock()
	s.post(SIPSessionDidProcessTransaction, ProcessTransactionData{Originator: Local, Method: "INVITE", Code: res.StatusCode, Reason: res.Reason})
	s.post(SIPSessionDidStart, DidStartData{Streams: accepted})
	s.startedThen()
}

// fail ends a session that never started.
func (s *Session) fail(orig Originator, code int, reason, failure string, redirects []string) {
	s.setState(StateTerminated)
	s.m.remove(s)
	s.post(SIPSessionDidFail, DidFailData{Originator: orig, Code: code, Reason: reason, FailureReason: failure, RedirectIdentities: redirects})
}

// bye sends BYE and returns its final response (nil when none came).
func (s *Session) bye(ctx context.Context, headers ...sip.Header) *sip.Response {
	s.mu.Lock()
	target, route := s.remoteTarget, s.route
	s.mu.Unlock()
	req := s.newRequest(sip.BYE, target)
	for _, h := range headers {
		req.AppendHeader(h)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*ShortReinviteTimeout)
	defer cancel()
	tx, err := s.m.cfg.Signalling.Request(ctx, req, route)
	if err != nil {
		return nil
	}
	defer tx.Terminate()
	for {
		select {
		case res := <-tx.Responses():
			if res != nil && res.StatusCode >= 200 {
				return res
			}
		case <-tx.Done():
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

// ---------------------------------------------------------------- incoming

func (s *Session) initIncoming(req *sip.Request, tx sip.ServerTransaction, offerText string, offer *sdp.SessionDescription) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state = StateIncoming
	s.invite, s.serverTx = req, tx
	s.callID = req.CallID().Value()
	if from := req.From(); from != nil {
		s.remoteURI = from.Address
		s.remoteTag, _ = from.Params.Get("tag")
	}
	if c := req.Contact(); c != nil {
		s.remoteTarget = c.Address
	} else if from := req.From(); from != nil {
		s.remoteTarget = from.Address
	}
	if ua := req.GetHeader("User-Agent"); ua != nil {
		s.remoteUA = ua.Value()
	}
	if subj := req.GetHeader("Subject"); subj != nil {
		s.subject = subj.Value()
	}
	s.remoteSDP = offerText
	s.route = routeBack(req)
	s.origin.ip = localAddress(req)
	s.localCSeq = 0
}

// routeBack is where in-dialog requests to the caller go: its source
// address, over the transport the INVITE came on (enough for the direct,
// peer-to-peer sessions this layer serves today).
func routeBack(req *sip.Request) engine.Route {
	host, port, _ := net.SplitHostPort(req.Source())
	p := 5060
	fmt.Sscan(port, &p)
	if c := req.Contact(); c != nil && c.Address.Port != 0 {
		if ip := net.ParseIP(c.Address.Host); ip != nil {
			host, p = c.Address.Host, c.Address.Port
		}
	}
	return engine.Route{Address: strings.Trim(host, "[]"), Port: p, Transport: engine.Transport(strings.ToLower(req.Transport()))}
}

// localAddress is the address the INVITE was sent to (its Request-URI host
// when it is an IP, else the loopback of its family).
func localAddress(req *sip.Request) string {
	if ip := net.ParseIP(strings.Trim(req.Recipient.Host, "[]")); ip != nil {
		return ip.String()
	}
	return "127.0.0.1"
}

// runIncoming announces the incoming session and stays until the INVITE
// got its final response (the engine's handler rule).
func (s *Session) runIncoming(streams []Stream) {
	s.mu.Lock()
	s.proposed = streams
	tx, req := s.serverTx, s.invite
	s.mu.Unlock()
	tx.OnCancel(func(*sip.Request) { s.gotCancel() })
	_ = s.m.cfg.Signalling.Respond(tx, req, 100, "Trying", nil)
	headers := map[string][]string{}
	for _, h := range req.Headers() {
		headers[h.Name()] = append(headers[h.Name()], h.Value())
	}
	s.post(SIPSessionNewIncoming, NewIncomingData{Streams: streams, Headers: headers})
	select {
	case <-s.answered:
	case <-tx.Done():
	case <-s.m.life.Done():
	}
}

// SendRingIndication sends 180 Ringing.
func (s *Session) SendRingIndication() error {
	s.mu.Lock()
	st, tx, req := s.state, s.serverTx, s.invite
	s.mu.Unlock()
	if st != StateIncoming && st != StateReceivedProposal {
		return &IllegalStateError{Call: "send_ring_indication", State: st}
	}
	return s.m.cfg.Signalling.Respond(tx, req, 180, "Ringing", nil)
}

// Accept answers the incoming session with streams (a subset of
// ProposedStreams); the others are refused in the answer.
func (s *Session) Accept(streams []Stream) error {
	if len(streams) == 0 {
		return ErrNoStreams
	}
	if err := s.transition("accept", StateAccepting, StateIncoming); err != nil {
		return err
	}
	s.m.wg.Add(1)
	go func() {
		defer s.m.wg.Done()
		s.runAccept(streams)
	}()
	return nil
}

func (s *Session) runAccept(chosen []Stream) {
	ctx := s.m.life
	s.mu.Lock()
	proposed, offerText, tx, req := s.proposed, s.remoteSDP, s.serverTx, s.invite
	s.mu.Unlock()
	keep := setOf(chosen)
	var accepted, dropped []Stream
	for _, st := range proposed {
		if keep[st] {
			accepted = append(accepted, st)
		} else {
			dropped = append(dropped, st)
		}
	}
	end(ctx, dropped)
	ok, failed := initialize(ctx, s.m.cfg.Center, accepted, s.info(), Incoming)
	end(ctx, streamsOf(failed))
	offer, _ := sdk.ParseSDP(offerText)
	media := map[int]string{}
	for _, st := range ok {
		idx := s.streamIndex(st)
		if pi, done := preparedOutcome(st); done && pi.Media != "" {
			media[idx] = pi.Media
			continue
		}
		res, err := st.GetLocalMedia(ctx, &sdk.GetLocalMediaRequest{RemoteSDP: offerText, StreamIndex: idx})
		if err != nil {
			continue
		}
		media[idx] = res.Media
	}
	if len(media) == 0 {
		end(ctx, ok)
		_ = s.m.cfg.Signalling.Respond(tx, req, 488, "Not Acceptable Here", nil)
		close(s.answered)
		s.fail(Local, 488, "Not Acceptable Here", "media stream did not initialize: "+failureList(failed), nil)
		return
	}
	s.mu.Lock()
	answer, err := s.origin.answer(offer, media)
	s.localSDP = answer
	s.mu.Unlock()
	if err != nil {
		end(ctx, ok)
		_ = s.m.cfg.Signalling.Respond(tx, req, 500, "Server Internal Error", nil)
		close(s.answered)
		s.fail(Local, 500, "Server Internal Error", "SDP negotiation failed: "+err.Error(), nil)
		return
	}
	// The INVITE handler may return once the 2xx is out: retransmissions
	// are stateless.
	ack, ackErr := s.answer2xx(ctx, tx, req, []byte(answer), func(err error) {
		close(s.answered)
		if err == nil {
			s.post(SIPSessionWillStart, nil)
		}
	})
	if ackErr != nil {
		end(context.WithoutCancel(ctx), ok)
		if ctx.Err() == nil {
			s.fail(Local, 500, "", "SIP core error: "+ackErr.Error(), nil)
		}
		return
	}
	if ack == nil {
		// The reference's BYE after a missing ACK says why (§2.2).
		end(ctx, ok)
		s.bye(ctx, sip.NewHeader("Reason", `SIP;cause=500;text="Missing ACK"`))
		s.fail(Remote, 0, "", "missing ACK", nil)
		return
	}
	if failed := start(ctx, s.m.cfg.Center, ok, s.streamIndex, answer, offerText); len(failed) > 0 {
		end(ctx, ok)
		s.bye(ctx)
		s.fail(Local, 0, "", fmt.Sprintf("%s media stream failed: %s", failed[0].Stream.Type(), failed[0].Reason), nil)
		return
	}
	s.mu.Lock()
	s.streams, s.proposed = ok, nil
	s.state = StateConnected
	s.startTime = time.Now()
	s.mu.Unlock()
	s.post(SIPSessionDidProcessTransaction, ProcessTransactionData{Originator: Remote, Method: "INVITE", Code: 200, Reason: "OK", AckReceived: AckYes})
	s.post(SIPSessionDidStart, DidStartData{Streams: ok})
	s.startedThen()
}

func streamsOf(fs []streamFailure) []Stream {
	out := make([]Stream, len(fs))
	for i, f := range fs {
		out[i] = f.Stream
	}
	return out
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
	if err := s.transition("reject", StateTerminating, StateIncoming); err != nil {
		return err
	}
	s.m.wg.Add(1)
	go func() {
		defer s.m.wg.Done()
		s.mu.Lock()
		tx, req, proposed := s.serverTx, s.invite, s.proposed
		s.mu.Unlock()
		end(s.m.life, proposed)
		_ = s.m.cfg.Signalling.Respond(tx, req, code, reason, nil)
		ack := AckNo
		select {
		case <-tx.Acks():
			ack = AckYes
		case <-time.After(AckTimeout):
		case <-s.m.life.Done():
		}
		close(s.answered)
		s.post(SIPSessionDidProcessTransaction, ProcessTransactionData{Originator: Remote, Method: "INVITE", Code: code, Reason: reason, AckReceived: ack})
		s.fail(Local, code, reason, "user request", nil)
	}()
	return nil
}

// gotCancel handles the caller's CANCEL (sipgo has already answered 200 and
// 487).
func (s *Session) gotCancel() {
	s.mu.Lock()
	if s.state != StateIncoming {
		s.mu.Unlock()
		return
	}
	s.state = StateTerminating
	s.remoteCanceled = true
	proposed := s.proposed
	s.mu.Unlock()
	end(s.m.life, proposed)
	s.post(SIPSessionDidProcessTransaction, ProcessTransactionData{Originator: Remote, Method: "INVITE", Code: 487, Reason: "Session Cancelled", AckReceived: AckUnknown})
	s.fail(Remote, 487, "Session Cancelled", "Session Cancelled", nil)
}

func (s *Session) gotAck(req *sip.Request) {
	select {
	case s.acks <- req:
	default:
	}
}

// gotBye ends the session at the peer's request.
func (s *Session) gotBye(req *sip.Request, tx sip.ServerTransaction) {
	s.mu.Lock()
	// The dialog exists once a 2xx was received (connecting) or sent
	// (accepting), but the streams may still be starting: the BYE is
	// answered now and acted on once the session started, so that its
	// notifications stay in order (DidStart, then WillEnd and DidEnd).
	starting := (s.state == StateConnecting && s.remoteTag != "") || s.state == StateAccepting
	if starting && s.pendingBye == nil {
		s.pendingBye = req
		s.mu.Unlock()
		_ = s.m.cfg.Signalling.Respond(tx, req, 200, "OK", nil)
		return
	}
	if !s.state.established() {
		s.mu.Unlock()
		_ = s.m.cfg.Signalling.Respond(tx, req, 481, "Call/Transaction Does Not Exist", nil)
		return
	}
	s.mu.Unlock()
	_ = s.m.cfg.Signalling.Respond(tx, req, 200, "OK", nil)
	s.endedByRemote(req)
}

// startedThen runs what was asked while the session was starting: a BYE
// that came meanwhile ends it, an End() ends it.
func (s *Session) startedThen() {
	s.mu.Lock()
	bye, pending := s.pendingBye, s.endRequested
	s.mu.Unlock()
	switch {
	case bye != nil:
		s.endedByRemote(bye)
	case pending:
		s.End()
	default:
		s.m.claimFailed(s)
	}
}

// endedByRemote ends the session for the remote's BYE req (answered
// already).
func (s *Session) endedByRemote(req *sip.Request) {
	// Let a remote re-INVITE that is being applied finish first.
	s.applying.Lock()
	s.applying.Unlock() //nolint:staticcheck // a barrier, not a critical section
	s.mu.Lock()
	if !s.state.established() {
		s.mu.Unlock()
		return
	}
	s.state = StateTerminating
	streams := s.streams
	s.mu.Unlock()
	reason := "user request"
	if h := req.GetHeader("Reason"); h != nil {
		reason = h.Value()
	}
	s.post(SIPSessionWillEnd, WillEndData{Originator: Remote})
	end(s.m.life, streams)
	s.post(SIPSessionDidProcessTransaction, ProcessTransactionData{Originator: Remote, Method: "BYE", Code: 200, Reason: "OK"})
	s.setState(StateTerminated)
	s.m.remove(s)
	s.post(SIPSessionDidEnd, DidEndData{Originator: Remote, EndReason: reason})
}

// hasActive tells whether st is one of the session's active streams.
func (s *Session) hasActive(st Stream) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.streams {
		if x == st {
			return true
		}
	}
	return false
}

// endWith ends the session as End does, the end reason being reason
// (SIPSessionDidEnd's end_reason) when it was connected.
func (s *Session) endWith(reason string) {
	s.mu.Lock()
	if s.endReason == "" {
		s.endReason = reason
	}
	s.mu.Unlock()
	s.End()
}

// End ends the session: CANCEL while connecting, BYE once connected, a 603
// while incoming; a no-op when already ending.
func (s *Session) End() {
	s.mu.Lock()
	st := s.state
	switch st {
	case StateNone:
		s.state = StateTerminated
		s.mu.Unlock()
		s.post(SIPSessionDidFail, DidFailData{Originator: Local, Code: 487, Reason: "Session Cancelled", FailureReason: "user request"})
		return
	case StateTerminating, StateTerminated:
		s.mu.Unlock()
		return
	case StateConnecting:
		s.mu.Unlock()
		s.cancelOnce.Do(func() { close(s.cancelRequest) })
		return
	case StateIncoming:
		s.mu.Unlock()
		_ = s.Reject(603, "Decline")
		return
	}
	if !st.established() {
		// Accepting: the answer is on its way; end as soon as the session
		// has started (or failed).
		s.endRequested = true
		s.mu.Unlock()
		return
	}
	s.state = StateTerminating
	streams := s.streams
	s.mu.Unlock()
	s.m.wg.Add(1)
	go func() {
		defer s.m.wg.Done()
		ctx := s.m.life
		s.post(SIPSessionWillEnd, WillEndData{Originator: Local})
		for _, st := range streams {
			_ = st.Deactivate(ctx)
		}
		res := s.bye(ctx)
		code, reason := 408, "Request Timeout"
		if res != nil {
			code, reason = res.StatusCode, res.Reason
		}
		s.post(SIPSessionDidProcessTransaction, ProcessTransactionData{Originator: Local, Method: "BYE", Code: code, Reason: reason})
		s.setState(StateTerminated)
		s.m.remove(s)
		s.mu.Lock()
		endReason := s.endReason
		s.mu.Unlock()
		if endReason == "" {
			endReason = "user request"
		}
		s.post(SIPSessionDidEnd, DidEndData{Originator: Local, EndReason: endReason})
		end(ctx, streams)
	}()
}

// reasonPhrase is RFC 3261's reason phrase for the failure codes a
// session answers with.
func reasonPhrase(code int) string {
	switch code {
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 480:
		return "Temporarily Unavailable"
	case 486:
		return "Busy Here"
	case 487:
		return "Request Terminated"
	case 488:
		return "Not Acceptable Here"
	case 600:
		return "Busy Everywhere"
	case 603:
		return "Decline"
	}
	return "Rejected"
}
