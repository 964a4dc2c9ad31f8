package session

import (
	"context"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/sdp/v3"
	"github.com/sipstreams/sipstreams/framework/conference"
	"github.com/sipstreams/sipstreams/framework/engine"
	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/sdk"
)

type sdpSessionDescription = sdp.SessionDescription

// Session is one SIP INVITE session (the reference's Session): its state,
// its streams, and the calls that move it through the state machine.
//
// Each Session runs one goroutine, its loop, that owns its state and
// handles, one at a time, SIP requests and responses, transaction
// outcomes, timers, its streams' events and the calls of its methods. The
// methods return once the loop has acted on them; their outcomes are
// posted as SIPSession* notifications with the *Session as sender.
type Session struct {
	m         *Manager
	acc       *Account // the identity it calls from or is called at; may be nil
	direction Direction
	callID    string
	localTag  string

	q      *inbox
	done   chan struct{}   // closed when the loop has exited
	ctx    context.Context // ends with the loop: bounds the requests it sent
	cancel context.CancelFunc

	// The published attributes: the loop writes them under vmu, getters
	// read them under vmu; the loop reads them freely.
	vmu             sync.Mutex
	state           State
	streams         []Stream
	proposed        []Stream
	route           engine.Route
	localURI        sip.Uri
	remoteURI       sip.Uri
	remoteTag       string
	remoteUA        string
	remoteFocus     bool
	peerAddress     string
	localIP         string // the address the session signals and streams bind on
	startTime       time.Time
	endTime         time.Time
	subject         string
	requestHeaders  map[string][]string // the peer's INVITE (incoming)
	responseHeaders map[string][]string // the peer's 2xx (outgoing)
	localFocus      bool
	xferDir         Direction
	xferState       TransferState
	transferInfo    *TransferInfo
	replaced        *Session // the session an INVITE with Replaces replaces
	confInfo        *conference.Info

	// Owned by the loop.
	index        map[Stream]int // m-line of each stream
	failures     map[Stream]string
	remoteTarget sip.Uri // the peer's Contact
	localCSeq    uint32
	origin       *origin
	localSDP     string
	remoteSDP    string
	invite       *sip.Request   // our initial INVITE (outgoing) or theirs (incoming)
	op           operation      // what is in progress; nil when idle
	retrying     *localReinvite // our re-INVITE waiting out a 491 back-off
	deferred     []func()       // messages waiting for op to end
	waits        []*streamWait
	timers       map[*time.Timer]struct{} // pending timers of after
	ack          *ackWait
	endReason    string // DidEnd's end_reason when not "user request"
	hold         holdIntent
	rpcLimit     time.Duration         // bounds plugin calls when not zero (abort)
	xfer         *xfer                 // the transfer in progress, either way
	conf         *subDialog            // the conference subscription (remote focus)
	subs         map[string]*subDialog // the session's own dialogs, by Call-ID
	extra        []sip.Header          // added to our INVITE (Connect options)

	wmu      sync.Mutex
	watchers []func(name string, data any) // see watch
}

// operation is what a session has in progress: its start
// (*outgoingCall, *incomingCall), an offer/answer either way
// (*localReinvite, *remoteReinvite), or its end (*ending).
type operation interface {
	operation()
}

func newSession(m *Manager, acc *Account, dir Direction, callID, localTag string) *Session {
	s := &Session{
		m: m, acc: acc, direction: dir, callID: callID, localTag: localTag,
		q:        newInbox(),
		done:     make(chan struct{}),
		index:    map[Stream]int{},
		failures: map[Stream]string{},
		timers:   map[*time.Timer]struct{}{},
		subs:     map[string]*subDialog{},
		origin:   &origin{id: rand.Uint64N(1 << 62), name: m.cfg.UserAgent},
	}
	s.ctx, s.cancel = context.WithCancel(m.life)
	if dir == Outgoing {
		s.localCSeq = uint32(rand.IntN(1 << 16))
	}
	if acc != nil {
		s.localURI = acc.URI
	}
	return s
}

// State returns the session's state.
func (s *Session) State() State {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	return s.state
}

// Direction tells who sent the initial INVITE.
func (s *Session) Direction() Direction { return s.direction }

// Account returns the account the session calls from or was called at.
func (s *Session) Account() *Account { return s.acc }

// Streams returns the session's active streams.
func (s *Session) Streams() []Stream {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	return append([]Stream(nil), s.streams...)
}

// ProposedStreams returns the streams of a pending proposal or incoming offer.
func (s *Session) ProposedStreams() []Stream {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	return append([]Stream(nil), s.proposed...)
}

// RemoteIdentity returns the peer's address (To for outgoing, From for incoming).
func (s *Session) RemoteIdentity() string {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	return s.remoteURI.String()
}

// LocalIdentity returns our address.
func (s *Session) LocalIdentity() string {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	return s.localURI.String()
}

// RemoteUserAgent returns the peer's User-Agent or Server header.
func (s *Session) RemoteUserAgent() string {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	return s.remoteUA
}

// RemoteFocus tells whether the peer's Contact carries isfocus (RFC 4579):
// the peer is a conference focus.
func (s *Session) RemoteFocus() bool {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	return s.remoteFocus
}

// PeerAddress returns the peer's signalling address ("ip:port"): where its
// INVITE came from, or where ours went.
func (s *Session) PeerAddress() string {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	return s.peerAddress
}

// Route returns the route of the session's requests.
func (s *Session) Route() engine.Route {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	return s.route
}

// Transport returns the SIP transport of the session.
func (s *Session) Transport() string {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	return string(s.route.Transport)
}

// RemoteRequestHeaders returns the headers of the peer's INVITE (incoming
// sessions), by name in the order received.
func (s *Session) RemoteRequestHeaders() map[string][]string {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	return s.requestHeaders
}

// RemoteResponseHeaders returns the headers of the peer's 2xx to our
// INVITE (outgoing sessions).
func (s *Session) RemoteResponseHeaders() map[string][]string {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	return s.responseHeaders
}

// DialogID returns the session's dialog: Call-ID and both tags (the
// remote tag is empty until the dialog exists).
func (s *Session) DialogID() DialogID {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	return DialogID{CallID: s.callID, LocalTag: s.localTag, RemoteTag: s.remoteTag}
}

// StartTime returns when the session started (zero if not yet).
func (s *Session) StartTime() time.Time { s.vmu.Lock(); defer s.vmu.Unlock(); return s.startTime }

// EndTime returns when the session ended.
func (s *Session) EndTime() time.Time { s.vmu.Lock(); defer s.vmu.Unlock(); return s.endTime }

// Subject returns the Subject header of the session.
func (s *Session) Subject() string { s.vmu.Lock(); defer s.vmu.Unlock(); return s.subject }

// CallID returns the session's Call-ID.
func (s *Session) CallID() string { return s.callID }

// Done is closed once the session has ended (or failed) and its loop has
// exited.
func (s *Session) Done() <-chan struct{} { return s.done }

// OnHold is true when any stream is held by either side.
func (s *Session) OnHold() bool {
	ctx, cancel := context.WithTimeout(s.m.life, ShortReinviteTimeout)
	defer cancel()
	for _, st := range s.Streams() {
		if !st.HoldSupported() {
			continue
		}
		if a, err := st.Attributes(ctx); err == nil && a.OnHold() {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------- loop helpers

func (s *Session) post(name string, data any) {
	s.m.cfg.Center.Post(notify.Notification{Name: name, Sender: s, Time: time.Now(), Data: data})
	s.wmu.Lock()
	ws := s.watchers
	s.wmu.Unlock()
	for _, w := range ws {
		w(name, data)
	}
}

// publish runs f, which sets published attributes, under vmu.
func (s *Session) publish(f func()) {
	s.vmu.Lock()
	f()
	s.vmu.Unlock()
}

func (s *Session) setState(st State) {
	s.publish(func() {
		s.state = st
		switch st {
		case StateTerminated:
			s.endTime = time.Now()
		}
	})
}

func (s *Session) setStreams(active, proposed []Stream) {
	s.publish(func() { s.streams, s.proposed = active, proposed })
}

// require checks that the session is in one of the allowed states.
func (s *Session) require(call string, allowed ...State) error {
	for _, a := range allowed {
		if s.state == a {
			return nil
		}
	}
	return &IllegalStateError{Call: call, State: s.state}
}

// StreamInfo returns the session as its streams see it: the
// sdk.SessionInfo given to their Initialize (Call-ID, direction,
// identities, conference focus, local IP). The local IP is known once the
// session is connecting or incoming; streams created for the session (an
// added stream, the offer of an INVITE without SDP) are prepared with it.
func (s *Session) StreamInfo() *sdk.SessionInfo {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	return &sdk.SessionInfo{
		ID: s.callID, Direction: string(s.direction),
		LocalIdentity: s.localURI.String(), RemoteIdentity: s.remoteURI.String(),
		RemoteFocus: s.remoteFocus,
		LocalFocus:  s.localFocus,
		LocalIP:     s.localIP,
	}
}

func (s *Session) info() *sdk.SessionInfo {
	return &sdk.SessionInfo{
		ID: s.callID, Direction: string(s.direction),
		LocalIdentity: s.localURI.String(), RemoteIdentity: s.remoteURI.String(),
		RemoteFocus: s.remoteFocus,
		LocalFocus:  s.localFocus,
		LocalIP:     s.origin.ip,
	}
}

// matchesDialog checks a request's tags against the dialog (RFC 3261 §12.2.2).
func (s *Session) matchesDialog(req *sip.Request) bool {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	from, to := req.From(), req.To()
	if from == nil || to == nil {
		return false
	}
	fromTag, _ := from.Params.Get("tag")
	toTag, _ := to.Params.Get("tag")
	return toTag == s.localTag && (s.remoteTag == "" || fromTag == s.remoteTag)
}

// newRequest builds an in-dialog request (or our initial INVITE).
func (s *Session) newRequest(method sip.RequestMethod, target sip.Uri) *sip.Request {
	if method != sip.ACK {
		s.localCSeq++
	}
	req := s.dialogRequest(method, target, s.callID, s.localTag, s.remoteTag, s.localCSeq)
	if s.acc != nil {
		req.From().DisplayName = s.acc.DisplayName
	}
	return req
}

// dialogRequest builds a request of a dialog of the session's (its own,
// or a subscription's): From, To, Call-ID and CSeq.
func (s *Session) dialogRequest(method sip.RequestMethod, target sip.Uri, callID, localTag, remoteTag string, cseq uint32) *sip.Request {
	req := sip.NewRequest(method, target)
	from := &sip.FromHeader{Address: s.localURI, Params: sip.NewParams()}
	from.Params.Add("tag", localTag)
	req.AppendHeader(from)
	to := &sip.ToHeader{Address: s.remoteURI, Params: sip.NewParams()}
	if remoteTag != "" {
		to.Params.Add("tag", remoteTag)
	}
	req.AppendHeader(to)
	cid := sip.CallIDHeader(callID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: method})
	return req
}

// contact is our Contact for the session's route (with isfocus when we
// are a conference focus, RFC 4579).
func (s *Session) contact() *sip.ContactHeader {
	return s.contactFor(s.route)
}

func (s *Session) contactFor(r engine.Route) *sip.ContactHeader {
	c := &sip.ContactHeader{Address: s.m.cfg.Signalling.ContactFor(r, s.localURI.User)}
	if s.localFocus {
		c.Params = sip.NewParams()
		c.Params.Add("isfocus", "")
	}
	return c
}

// LocalFocus tells whether we act as a conference focus in the session
// (our Contact carries isfocus).
func (s *Session) LocalFocus() bool {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	return s.localFocus
}

// learnRemote takes what a dialog-forming message of the peer says about
// it: its Contact (target and focus), User-Agent or Server.
func (s *Session) learnRemote(msg headered) {
	s.publish(func() {
		if c := contactOf(msg); c != nil {
			s.remoteTarget = c.Address
			s.remoteFocus = isFocus(c)
		}
		for _, name := range []string{"User-Agent", "Server"} {
			if h := msg.GetHeader(name); h != nil {
				s.remoteUA = h.Value()
				break
			}
		}
	})
}

func contactOf(msg headered) *sip.ContactHeader {
	h := msg.GetHeader("Contact")
	if h == nil {
		return nil
	}
	c, ok := h.(*sip.ContactHeader)
	if !ok {
		return nil
	}
	return c
}

// isFocus tells whether a Contact carries the isfocus feature tag.
func isFocus(c *sip.ContactHeader) bool {
	if c.Params != nil {
		if _, ok := c.Params.Get("isfocus"); ok {
			return true
		}
	}
	if c.Address.UriParams != nil {
		if _, ok := c.Address.UriParams.Get("isfocus"); ok {
			return true
		}
	}
	return false
}

// headersOf returns a message's headers by name, in order.
func headersOf(msg headered) map[string][]string {
	out := map[string][]string{}
	for _, h := range msg.Headers() {
		out[h.Name()] = append(out[h.Name()], h.Value())
	}
	return out
}

// routeBack is where in-dialog requests to the caller go: its Contact
// when that is an IP address, else its source address, over the
// transport the INVITE came on.
func routeBack(req *sip.Request) engine.Route {
	host, port, _ := net.SplitHostPort(req.Source())
	p, err := strconv.Atoi(port)
	if err != nil {
		p = 5060
	}
	if c := req.Contact(); c != nil && c.Address.Port != 0 {
		if ip := net.ParseIP(strings.Trim(c.Address.Host, "[]")); ip != nil {
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

// inviteTimeout is sip.invite_timeout of the session's account, else the
// default.
func (s *Session) inviteTimeout() time.Duration {
	if s.acc != nil {
		if v, ok := s.acc.Settings["sip.invite_timeout"]; ok {
			if d, err := parseSeconds(v); err == nil && d > 0 {
				return d
			}
		}
	}
	if s.m.cfg.InviteTimeout > 0 {
		return s.m.cfg.InviteTimeout
	}
	return DefaultInviteTimeout
}

// parseSeconds reads a flattened duration setting: seconds ("90", "0.5")
// or a Go duration ("90s").
func parseSeconds(v string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return time.Duration(f * float64(time.Second)), nil
	}
	return time.ParseDuration(v)
}

// reasonPhrase is RFC 3261's reason phrase for the failure codes a
// session answers with.
func reasonPhrase(code int) string {
	switch code {
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 408:
		return "Request Timeout"
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

// headered is a SIP request or response, as far as headers go.
type headered interface {
	GetHeader(name string) sip.Header
	Headers() []sip.Header
}
