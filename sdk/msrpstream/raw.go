package msrpstream

import (
	"context"
	"crypto/tls"
	"io"
	"strings"
	"sync"

	"github.com/pion/sdp/v3"
	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/msrp"
)

// RawResponseComment is the comment of the 415 that a raw stream answers
// to a SEND of a content type it does not take, as the reference's.
const RawResponseComment = "Invalid Content-Type"

// RawConfig describes a stream type in raw mode (see [Raw]) to the Base:
// what goes into the SDP and who takes the bytes.
type RawConfig struct {
	// MediaType is the m-line media; "" means "message" (desktop sharing
	// uses "application").
	MediaType string
	// AcceptTypes go into a=accept-types: the content types taken
	// (wildcards as in [Accepts]). A SEND of another type is answered 415.
	AcceptTypes []string
	// ContentType is the Content-Type of the SENDs Write sends; "" means
	// the first of AcceptTypes.
	ContentType string
	// Direction is the local a=<direction>; "" means sendrecv.
	Direction sdk.MediaDirection
	// Attributes are the type's own SDP attributes (a=rfbsetup, ...).
	Attributes []sdp.Attribute
	// Receive takes the body of every SEND of an accepted type, in the
	// order they arrive, on the connection's reader goroutine: while it
	// runs nothing more is read from the peer, so a Receive that waits for
	// a slow consumer slows the peer down (back-pressure) instead of
	// buffering. body is valid during the call only; what Receive leaves
	// unread is discarded. Nil discards the data.
	Receive func(ctx context.Context, contentType string, body io.Reader)
	// Started runs once the stream has started (after MediaStreamDidStart,
	// Write may be called), on the goroutine that connected. It must
	// return promptly.
	Started func()
	// MSRP tunes the connections (timeouts, logger); see Config.MSRP.
	MSRP msrp.Config
	// ClientTLS and ServerTLS replace the account's TLS configuration when
	// set.
	ClientTLS, ServerTLS *tls.Config
	// PrepareLocked runs in Initialize before the setup; see
	// Config.PrepareLocked.
	PrepareLocked func() error
}

// Raw is an MSRP stream in raw mode, the reference's MSRP streams with
// use_msrp_session=False (its desktop sharing): the Base negotiates the
// SDP and sets up the connection — roles, TLS, a=fingerprint, relays —
// exactly as for any stream, and the stream then drives MSRP itself
// instead of sending messages through the session layer:
//
//   - Write sends each buffer as one SEND, a whole message in one chunk,
//     with a fresh Message-ID, Byte-Range 1-n/n, Success-Report no and
//     Failure-Report partial, so that no response comes back for data that
//     arrived (msrp.RawSender). A Write returns once its SEND is in the
//     connection's socket: a peer that does not read blocks it, and
//     nothing is queued.
//   - Incoming SENDs of an accepted type are handed to RawConfig.Receive
//     in order; another content type is answered 415 "Invalid
//     Content-Type", another method 501, malformed requests 400; responses
//     and REPORTs are dropped. Input that cannot be parsed at all breaks
//     the connection: the stream fails with context "reading" and the
//     parser's reason.
//
// A vendor embeds the *Raw in its stream as it would a *Base; Fail lets
// it fail the stream for reasons of its own (a local socket that broke).
// Other vendors' streams can use the same mode.
type Raw struct {
	*Base
	cfg RawConfig

	mu     sync.Mutex
	sender *msrp.RawSender
}

// NewRaw returns a raw stream for an outgoing offer.
func NewRaw(env *sdk.Env, account *sdk.Account, cfg RawConfig) *Raw {
	r := &Raw{cfg: cfg}
	r.Base = New(env, account, r.config())
	return r
}

// NewRawFromSDP returns a raw stream for m-line req.StreamIndex of an
// incoming offer, checked as NewFromSDP checks it; an m-line whose
// a=accept-types has none of cfg's types gives sdk.ErrUnknownStream, as
// the reference says of its desktop sharing.
func NewRawFromSDP(req *sdk.NewFromSDPRequest, env *sdk.Env, cfg RawConfig) (*Raw, error) {
	r := &Raw{cfg: cfg}
	b, err := NewFromSDP(req, env, r.config())
	if err != nil {
		return nil, err
	}
	ok := false
	for _, t := range b.Offer().AcceptTypes {
		if Accepts(cfg.AcceptTypes, t) {
			ok = true
			break
		}
	}
	if !ok {
		return nil, sdk.Errorf(sdk.ErrUnknownStream, "a=accept-types %q has none of %s",
			strings.Join(b.Offer().AcceptTypes, " "), strings.Join(cfg.AcceptTypes, " "))
	}
	r.Base = b
	return r, nil
}

// config is the Base's configuration of a raw stream.
func (r *Raw) config() Config {
	return Config{
		MediaType:     r.cfg.MediaType,
		AcceptTypes:   r.cfg.AcceptTypes,
		Direction:     r.cfg.Direction,
		Attributes:    r.cfg.Attributes,
		MSRP:          r.cfg.MSRP,
		ClientTLS:     r.cfg.ClientTLS,
		ServerTLS:     r.cfg.ServerTLS,
		PrepareLocked: r.cfg.PrepareLocked,
		Handler: Handler{
			Send:    r.handleSend,
			Report:  func(context.Context, *msrp.Report) {},
			Started: r.started,
		},
	}
}

func (r *Raw) contentType() string {
	if r.cfg.ContentType != "" {
		return r.cfg.ContentType
	}
	if len(r.cfg.AcceptTypes) > 0 {
		return r.cfg.AcceptTypes[0]
	}
	return "application/octet-stream"
}

// started makes the sender of the session, then runs the vendor's hook.
func (r *Raw) started(s *msrp.Session) {
	w, err := s.NewRawSender(r.contentType())
	if err != nil {
		r.Fail("sending", err.Error(), nil)
		return
	}
	r.mu.Lock()
	r.sender = w
	r.mu.Unlock()
	if r.cfg.Started != nil {
		r.cfg.Started()
	}
}

// handleSend refuses the types not taken and hands the others' bytes on.
func (r *Raw) handleSend(ctx context.Context, c *msrp.Chunk) int {
	if !Accepts(r.cfg.AcceptTypes, c.ContentType) {
		c.ResponseComment = RawResponseComment
		return msrp.StatusUnsupportedMedia
	}
	if r.cfg.Receive != nil {
		r.cfg.Receive(ctx, c.ContentType, c)
	}
	return msrp.StatusOK
}

// senderOf returns the sender, or an error wrapping sdk.ErrIllegalState
// before the stream started or once it failed or ended.
func (r *Raw) senderOf() (*msrp.RawSender, error) {
	r.Base.mu.Lock()
	st := r.Base.life.State()
	r.Base.mu.Unlock()
	r.mu.Lock()
	w := r.sender
	r.mu.Unlock()
	if w == nil || st != sdk.StateStarted {
		return nil, sdk.Errorf(sdk.ErrIllegalState, "raw MSRP write in state %s", st)
	}
	return w, nil
}

// Write sends p as one SEND (nothing for an empty p) and returns len(p),
// once the SEND is in the connection's socket. Before the stream has
// started, or after it failed or ended, it fails with sdk.ErrIllegalState;
// once the connection has closed, with an error wrapping msrp.ErrClosed.
func (r *Raw) Write(p []byte) (int, error) {
	w, err := r.senderOf()
	if err != nil {
		return 0, err
	}
	if err := w.Send(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// SendFrom reads once from src, up to size bytes, and sends what it read
// as one SEND without copying it again (msrp.RawSender.SendFrom): the loop
// body of a pump from a socket. It returns the bytes sent and src's error,
// or the error of Write.
func (r *Raw) SendFrom(src io.Reader, size int) (int, error) {
	w, err := r.senderOf()
	if err != nil {
		return 0, err
	}
	return w.SendFrom(src, size)
}

// Fail fails the stream for a reason of the vendor's (context is where:
// "connecting", "reading", "sending", ...): MediaStreamDidFail with
// context and reason, as the Base's own failures. It does nothing, and
// returns false, unless the stream is starting or started and neither
// Deactivate nor End has come (the stream is being closed: a socket
// breaking then is no failure) nor a failure before. first, when not nil,
// runs just before MediaStreamDidFail is posted, under the same
// condition, so that the vendor's own failure notification comes first
// (it must not call the stream's methods).
func (r *Raw) Fail(context, reason string, first func()) bool {
	b := r.Base
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.life.Closing() || !b.life.In(sdk.StateStarting, sdk.StateStarted) {
		return false
	}
	if first != nil {
		first()
	}
	b.life.Fail(context, reason)
	return true
}

// Active reports whether data may flow: the stream has started and is
// neither failed nor being closed (Deactivate, End).
func (r *Raw) Active() bool {
	b := r.Base
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.life.Active()
}
