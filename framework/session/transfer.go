package session

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sipstreams/sipstreams/framework/engine"
	"github.com/sipstreams/sipstreams/framework/refer"
)

// TransferState is where a session's transfer is (the reference's
// transfer_handler.state).
type TransferState string

// Transfer states.
const (
	TransferStarting TransferState = "starting" // REFER sent, or received and not decided yet
	TransferStarted  TransferState = "started"  // accepted: the new call is being placed
	TransferEnded    TransferState = "ended"
	TransferFailed   TransferState = "failed"
)

// referExpiry is the refer subscription's lifetime (reference §2.2: 90 s).
const referExpiry = 90 * time.Second

// TransferInfo is what a session placed for a transfer knows of it (the
// reference's TransferInfo): who referred the call and, for an attended
// transfer, the dialog it replaces as the transferor saw it.
type TransferInfo struct {
	ReferredBy     string
	ReplacedDialog *DialogID
}

// TransferCall is the call an accepted transfer asks for: the
// application places it with Config.Transfer.
type TransferCall struct {
	// Account is the transferred session's account, Target where the
	// call goes, Types the stream types of the transferred session.
	Account *Account
	Target  sip.Uri
	Types   []string
	// Options carry the transfer's Referred-By and Replaces into the
	// INVITE; pass them to Connect.
	Options []ConnectOption
	// Watch must be called with the new session before it connects: the
	// transferred session reports its progress to the transferor.
	Watch func(*Session)
}

// ConnectOption adds to an outgoing session's INVITE.
type ConnectOption func(*connectOptions)

type connectOptions struct {
	headers  []sip.Header
	transfer *TransferInfo
	focus    bool
}

// WithHeaders adds headers to the INVITE (not To, From, Via, Contact,
// Route or Record-Route, which the session writes).
func WithHeaders(h ...sip.Header) ConnectOption {
	return func(o *connectOptions) { o.headers = append(o.headers, h...) }
}

// AsFocus marks our Contact with isfocus (RFC 4579): we are a conference
// focus (the reference's is_focus).
func AsFocus() ConnectOption { return func(o *connectOptions) { o.focus = true } }

// WithTransferInfo makes the session the call of a transfer: its INVITE
// carries Referred-By and, for an attended transfer, Replaces.
func WithTransferInfo(info TransferInfo, replaces *refer.Replaces) ConnectOption {
	return func(o *connectOptions) {
		o.transfer = &info
		if info.ReferredBy != "" {
			o.headers = append(o.headers, sip.NewHeader("Referred-By", info.ReferredBy))
		}
		if replaces != nil {
			o.headers = append(o.headers, sip.NewHeader("Replaces", replaces.String()))
		}
	}
}

// xfer is a session's transfer in progress, either way.
type xfer struct {
	direction Direction // outgoing: we sent the REFER
	state     TransferState
	event     refer.Event // the refer subscription's Event (id: the REFER's CSeq)
	timer     *time.Timer // the subscription's expiry
	// outgoing
	req *sip.Request // our REFER
	// incoming
	referTo    refer.ReferTo
	referredBy string
	call       *Session // the call placed once accepted
	// notified is closed once the last NOTIFY's transaction ended: the
	// next one waits for it, so the transferor gets them in order.
	notified <-chan struct{}
}

// TransferNewOutgoingData is the data of SIPSessionTransferNewOutgoing.
type TransferNewOutgoingData struct {
	TransferDestination string
	TransferSource      string
}

// TransferNewIncomingData is the data of SIPSessionTransferNewIncoming:
// the Refer-To target without its headers and parameters, and the
// REFER's headers.
type TransferNewIncomingData struct {
	TransferDestination string
	Headers             map[string][]string
}

// TransferProgressData is the data of SIPSessionTransferGotProgress and
// SIPSessionTransferDidFail: a SIP status of the new call.
type TransferProgressData struct {
	Code   int
	Reason string
}

// IncomingFromTransferData is the data of SIPSessionNewIncomingFromTransfer:
// the new session replaces the dialog ReplacedDialog (as we see it).
type IncomingFromTransferData struct {
	CallID, ToTag, FromTag string
	ReplacedDialog         DialogID
}

// IncomingFromTransferFailedData is the data of
// SIPSessionNewIncomingFromTransferFailed.
type IncomingFromTransferFailedData struct {
	Reason string
}

// TransferState returns the direction and state of the session's
// transfer, or empty ones when none was made.
func (s *Session) TransferState() (Direction, TransferState) {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	return s.xferDir, s.xferState
}

// TransferInfo returns how the session came from a transfer, or nil.
func (s *Session) TransferInfo() *TransferInfo {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	return s.transferInfo
}

// ReplacedSession returns the session this one replaces (an INVITE with
// Replaces, RFC 3891), or nil.
func (s *Session) ReplacedSession() *Session {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	return s.replaced
}

func (s *Session) setTransfer(x *xfer) {
	s.xfer = x
	s.publish(func() {
		if x == nil {
			return
		}
		s.xferDir, s.xferState = x.direction, x.state
	})
}

func (s *Session) transferTo(x *xfer, st TransferState) {
	x.state = st
	s.publish(func() { s.xferState = st })
	if st == TransferEnded || st == TransferFailed {
		s.stopTimer(x.timer)
		if s.xfer == x {
			s.xfer = nil
		}
	}
}

// Transfer asks the peer to call target instead of us (RFC 3515: an
// in-dialog REFER). With replaced, it is an attended transfer: the peer's
// call replaces our session replaced (RFC 3891). SIPSessionTransferNewOutgoing
// is posted now; SIPSessionTransferDidStart when the peer accepts the
// REFER, SIPSessionTransferGotProgress for each NOTIFY, then
// SIPSessionTransferDidEnd (and the session ends) or
// SIPSessionTransferDidFail.
func (s *Session) Transfer(target sip.Uri, replaced *Session) error {
	return s.do("transfer", func() error {
		if err := s.require("transfer", StateConnected); err != nil {
			return err
		}
		if s.xfer != nil {
			return fmt.Errorf("%w: a transfer is in progress", ErrIllegalState)
		}
		rt := refer.NewReferTo(target)
		if replaced != nil {
			d := replaced.DialogID()
			if d.RemoteTag == "" || replaced.State() != StateConnected {
				return fmt.Errorf("%w: the session to replace is not connected", ErrIllegalState)
			}
			rt = rt.WithReplaces(refer.ReplacesFor(d.CallID, d.LocalTag, d.RemoteTag))
		}
		x := &xfer{direction: Outgoing, state: TransferStarting}
		s.setTransfer(x)
		s.post(SIPSessionTransferNewOutgoing, TransferNewOutgoingData{TransferDestination: target.String(), TransferSource: s.localURI.String()})
		req := s.newRequest(sip.REFER, s.remoteTarget)
		req.AppendHeader(s.contact())
		req.AppendHeader(sip.NewHeader("Refer-To", rt.String()))
		req.AppendHeader(sip.NewHeader("Referred-By", refer.NewReferredBy(s.localURI).String()))
		x.req, x.event = req, refer.NewReferEvent(req.CSeq().SeqNo)
		x.timer = s.after(referExpiry, func() {
			if s.xfer == x {
				s.transferFailed(x, 408, "Request Timeout")
			}
		})
		s.send(s.ctx, req, s.route, txEvents{
			response: func(res *sip.Response) {
				if res.StatusCode < 200 || s.xfer != x {
					return
				}
				if res.StatusCode >= 300 {
					s.transferFailed(x, res.StatusCode, res.Reason)
					return
				}
				if x.state == TransferStarting {
					s.transferTo(x, TransferStarted)
					s.post(SIPSessionTransferDidStart, nil)
				}
			},
			failed: func(err error) {
				if s.xfer == x {
					s.transferFailed(x, 408, "Request Timeout")
				}
			},
		})
		return nil
	})
}

func (s *Session) transferFailed(x *xfer, code int, reason string) {
	s.transferTo(x, TransferFailed)
	s.post(SIPSessionTransferDidFail, TransferProgressData{Code: code, Reason: reason})
}

// gotNotify handles an in-dialog NOTIFY: the progress of our REFER.
func (s *Session) gotNotify(r *serverReq) {
	ev, err := eventOf(r.req)
	if err != nil {
		s.respond(r, 400, "Bad Request", nil, sip.NewHeader("Warning", `399 - "malformed Event header"`))
		return
	}
	x := s.xfer
	if ev.Type != refer.EventRefer || x == nil || x.direction != Outgoing || (ev.ID != "" && !ev.Matches(x.event)) {
		s.respond(r, 481, "Subscription Does Not Exist", nil)
		return
	}
	if x.state == TransferStarting {
		// The NOTIFY overtook the 202: the peer took the REFER, whatever
		// the NOTIFY says (the 202, coming next, is then ignored).
		s.transferTo(x, TransferStarted)
		s.post(SIPSessionTransferDidStart, nil)
	}
	frag, err := refer.ParseSipfrag(r.req.Body())
	if err != nil {
		// A NOTIFY we cannot read: refused, and the transfer is given up
		// (we cannot tell how it went).
		s.respond(r, 400, "Bad Request", nil, sip.NewHeader("Warning", `399 - "the body is not a message/sipfrag status line"`))
		s.transferFailed(x, 0, "malformed NOTIFY: "+err.Error())
		return
	}
	s.respond(r, 200, "OK", nil)
	s.post(SIPSessionTransferGotProgress, TransferProgressData{Code: frag.StatusCode, Reason: frag.Reason})
	terminated := false
	if h := r.req.GetHeader("Subscription-State"); h != nil {
		if st, err := refer.ParseSubscriptionState(h.Value()); err == nil && st.State == refer.SubStateTerminated {
			terminated = true
		}
	}
	switch {
	case frag.StatusCode >= 200 && frag.StatusCode < 300:
		// The transferee reached the target: our part is done (§2.8).
		s.transferTo(x, TransferEnded)
		s.post(SIPSessionTransferDidEnd, nil)
		s.endLocal("")
	case frag.StatusCode >= 300:
		s.transferFailed(x, frag.StatusCode, frag.Reason)
	case terminated:
		s.transferFailed(x, frag.StatusCode, "the subscription ended without a final status")
	}
}

// eventOf reads a request's Event header.
func eventOf(req *sip.Request) (refer.Event, error) {
	h := req.GetHeader("Event")
	if h == nil {
		h = req.GetHeader("o")
	}
	if h == nil {
		return refer.Event{}, fmt.Errorf("no Event header")
	}
	return refer.ParseEvent(h.Value())
}

// gotRefer handles an in-dialog REFER: the peer transfers us (§2.8).
func (s *Session) gotRefer(r *serverReq) {
	if s.starting() {
		s.later(func() { s.gotRefer(r) })
		return
	}
	if !s.state.established() {
		s.respond(r, 481, "Call/Transaction Does Not Exist", nil)
		return
	}
	h := r.req.GetHeader("Refer-To")
	if h == nil {
		h = r.req.GetHeader("r")
	}
	if h == nil {
		s.respond(r, 400, "Bad Request", nil, sip.NewHeader("Warning", `399 - "no Refer-To header"`))
		return
	}
	rt, err := refer.ParseReferTo(h.Value())
	if err != nil {
		s.respond(r, 400, "Bad Request", nil, sip.NewHeader("Warning", fmt.Sprintf(`399 - "malformed Refer-To: %s"`, quoteSafe(err.Error()))))
		return
	}
	if _, _, err := rt.Replaces(); err != nil {
		s.respond(r, 400, "Bad Request", nil, sip.NewHeader("Warning", `399 - "malformed Replaces in Refer-To"`))
		return
	}
	if s.xfer != nil {
		s.respond(r, 480, "Temporarily Unavailable", nil, sip.NewHeader("Warning", `399 - "a transfer is in progress"`))
		return
	}
	referredBy := s.remoteURI.String()
	if rb := r.req.GetHeader("Referred-By"); rb != nil {
		referredBy = rb.Value()
	} else if rb := r.req.GetHeader("b"); rb != nil {
		referredBy = rb.Value()
	}
	x := &xfer{direction: Incoming, state: TransferStarting, referTo: rt, referredBy: referredBy,
		event: refer.NewReferEvent(r.req.CSeq().SeqNo)}
	s.setTransfer(x)
	s.respond(r, 202, "Accepted", nil, s.contact())
	s.notifyTransfer(x, 100, "Trying", false)
	x.timer = s.after(referExpiry, func() {
		if s.xfer == x && x.state == TransferStarting {
			s.rejectTransfer(x, 408, "Request Timeout")
		}
	})
	dest := rt.Destination()
	s.post(SIPSessionTransferNewIncoming, TransferNewIncomingData{TransferDestination: dest.String(), Headers: headersOf(r.req)})
}

// quoteSafe keeps a text usable inside a quoted Warning.
func quoteSafe(s string) string { return strconv.Quote(s)[1 : len(strconv.Quote(s))-1] }

// notifyTransfer reports the referred call's progress to the transferor
// (RFC 3515 §2.4.5): a NOTIFY in the dialog with a sipfrag of code. Each
// NOTIFY goes once the previous one was answered (or timed out): sent
// side by side, a quick failure could overtake the 100 before it, and the
// transferor would read the subscription's end first.
func (s *Session) notifyTransfer(x *xfer, code int, reason string, final bool) {
	if !s.state.established() && s.state != StateTerminating {
		return
	}
	state := refer.Active(uint32(referExpiry / time.Second))
	if final {
		state = refer.Terminated(refer.ReasonNoResource)
	}
	req := s.newRequest(sip.NOTIFY, s.remoteTarget)
	req.AppendHeader(s.contact())
	req.AppendHeader(sip.NewHeader("Event", x.event.String()))
	req.AppendHeader(sip.NewHeader("Subscription-State", state.String()))
	req.AppendHeader(sip.NewHeader("Content-Type", refer.ContentTypeSipfrag))
	req.SetBody(refer.NewSipfrag(code, reason).Marshal())
	x.notified = s.fireAfter(x.notified, req, s.route, ShortReinviteTimeout)
}

// AcceptTransfer accepts the peer's transfer (the reference's
// accept_transfer): SIPSessionTransferDidStart, then a new session to the
// target with the stream types of this one (placed with Config.Transfer),
// whose progress is reported to the transferor; once it started this
// session ends (SIPSessionTransferDidEnd), if it fails
// SIPSessionTransferDidFail.
func (s *Session) AcceptTransfer() error {
	return s.do("accept_transfer", func() error {
		x := s.xfer
		if x == nil || x.direction != Incoming || x.state != TransferStarting {
			return fmt.Errorf("%w: accept_transfer: no transfer to accept", ErrIllegalState)
		}
		if s.m.cfg.Transfer == nil {
			return fmt.Errorf("session: accept_transfer: the application places no transferred calls (Config.Transfer)")
		}
		s.transferTo(x, TransferStarted)
		s.post(SIPSessionTransferDidStart, nil)
		info := TransferInfo{ReferredBy: x.referredBy}
		var replaces *refer.Replaces
		if rep, ok, _ := x.referTo.Replaces(); ok {
			replaces = &rep
			info.ReplacedDialog = &DialogID{CallID: rep.CallID, LocalTag: rep.FromTag, RemoteTag: rep.ToTag}
		}
		var types []string
		for _, st := range s.streams {
			types = append(types, st.Type())
		}
		call := TransferCall{
			Account: s.acc, Target: x.referTo.Destination(), Types: types,
			Options: []ConnectOption{WithTransferInfo(info, replaces)},
			Watch: func(n *Session) {
				n.watch(func(name string, data any) {
					s.q.push(func() { s.transferCallEvent(x, n, name, data) })
				})
			},
		}
		place := s.m.cfg.Transfer
		s.m.wg.Add(1)
		go func() {
			defer s.m.wg.Done()
			ctx, cancel := context.WithTimeout(s.m.life, 30*time.Second)
			defer cancel()
			n, err := place(ctx, call)
			s.q.push(func() {
				if err != nil {
					if s.xfer == x {
						// The reference tells a target it finds no route
						// to with 480, any other failure with 500 (§2.8).
						code, reason := 500, "Server Internal Error"
						if errors.Is(err, engine.ErrNoRoute) {
							code, reason = 480, "Temporarily Unavailable"
						}
						s.notifyTransfer(x, code, reason, true)
						s.transferFailed(x, code, err.Error())
					}
					return
				}
				x.call = n
			})
		}()
		return nil
	})
}

// transferCallEvent relays an event of the call placed for a transfer to
// the transferor, and ends this session once the call started.
func (s *Session) transferCallEvent(x *xfer, n *Session, name string, data any) {
	if x.state != TransferStarted {
		return
	}
	switch name {
	case SIPSessionGotProvisionalResponse:
		d := data.(ProvisionalResponseData)
		s.notifyTransfer(x, d.Code, d.Reason, false)
	case SIPSessionDidStart:
		s.notifyTransfer(x, 200, "OK", true)
		s.transferTo(x, TransferEnded)
		s.post(SIPSessionTransferDidEnd, nil)
		// The BYE goes once the transferor answered the NOTIFY: it
		// learns the outcome before the end of the session.
		s.endAfter(x.notified)
	case SIPSessionDidFail:
		d := data.(DidFailData)
		code, reason := d.Code, d.Reason
		if code < 300 {
			code, reason = 500, "Server Internal Error"
		}
		s.notifyTransfer(x, code, reason, true)
		s.transferFailed(x, d.Code, d.FailureReason)
	}
}

// endAfter ends the session once done is closed.
func (s *Session) endAfter(done <-chan struct{}) {
	s.m.wg.Add(1)
	go func() {
		defer s.m.wg.Done()
		select {
		case <-done:
		case <-s.done:
			return
		case <-s.m.life.Done():
		}
		s.q.push(func() { s.endLocal("") })
	}()
}

// RejectTransfer refuses the peer's transfer with code (default 603):
// the transferor is told with a NOTIFY; SIPSessionTransferDidFail.
func (s *Session) RejectTransfer(code int, reason string) error {
	if code == 0 {
		code = 603
	}
	if code < 300 || code > 699 {
		return fmt.Errorf("session: reject_transfer code %d is not a failure code", code)
	}
	if reason == "" {
		reason = reasonPhrase(code)
	}
	return s.do("reject_transfer", func() error {
		x := s.xfer
		if x == nil || x.direction != Incoming || x.state != TransferStarting {
			return fmt.Errorf("%w: reject_transfer: no transfer to reject", ErrIllegalState)
		}
		s.rejectTransfer(x, code, reason)
		return nil
	})
}

func (s *Session) rejectTransfer(x *xfer, code int, reason string) {
	s.notifyTransfer(x, code, reason, true)
	s.transferFailed(x, code, reason)
}

// watch adds fn to what the session's notifications go to besides the
// center: fn runs on the session's loop, right after each post, and must
// not block. A session placed for a transfer reports to the transferred
// one this way, without the notification center.
func (s *Session) watch(fn func(name string, data any)) {
	s.wmu.Lock()
	s.watchers = append(s.watchers, fn)
	s.wmu.Unlock()
}
