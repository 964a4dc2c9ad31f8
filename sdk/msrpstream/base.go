package msrpstream

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pion/sdp/v3"
	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/msrp"
)

// ConnectTimeout bounds the connection setup started by Start: dialing and
// binding, or waiting for the peer (the reference's 30 s MSRP timeouts).
const ConnectTimeout = 30 * time.Second

// Config describes the vendor's MSRP stream type to the Base: what goes
// into the SDP and who handles the incoming requests.
type Config struct {
	// MediaType is the m-line media; "" means "message".
	MediaType string
	// AcceptTypes and AcceptWrappedTypes go into a=accept-types and
	// a=accept-wrapped-types.
	AcceptTypes        []string
	AcceptWrappedTypes []string
	// Direction is the local a=<direction>; "" means sendrecv (file
	// transfer uses sendonly / recvonly).
	Direction sdk.MediaDirection
	// MaxSize is a=max-size; 0 leaves it out.
	MaxSize int64
	// Attributes are the type's own SDP attributes (file-selector, ...).
	Attributes []sdp.Attribute
	// Handler receives the incoming MSRP requests.
	Handler Handler
	// MSRP tunes the connections (timeouts, chunk size, logger). Its
	// TLSConfig is ignored: TLS comes from the account (see TLSSettings)
	// unless ClientTLS / ServerTLS are set.
	MSRP msrp.Config
	// ClientTLS and ServerTLS replace the account's TLS configuration when
	// set.
	ClientTLS, ServerTLS *tls.Config
	// Prepare, when set, runs first in Initialize, on a goroutine the
	// stream owns, before the connection is set up: the reference's file
	// transfer hashes the file to send before its MSRP setup. Initialize
	// returns at once; an error fails initialization with its reason
	// (MediaStreamDidNotInitialize), otherwise the setup follows. End
	// cancels ctx and waits for Prepare to return, and posts
	// MediaStreamDidNotInitialize "Interrupted".
	Prepare func(ctx context.Context) error
	// PrepareLocked, when set, runs in Initialize with the Base's lock
	// held (it must not call the Base), right before the connection is
	// set up (after Prepare, when both are set): the vendor's own quick
	// setup, such as a local socket, done once Initialize returns when
	// there is no Prepare. Its error fails the initialization
	// (MediaStreamDidNotInitialize with the error's reason).
	PrepareLocked func() error
}

// Handler holds the vendor's hooks, one per MSRP method (the reference's
// _handle_<METHOD> methods), plus one for the start of the session. A nil
// hook gets msrp.HandlerFuncs' default: chunks and messages are accepted,
// REPORTs dropped, unknown methods answered 501. Hooks run on the
// connection's reader goroutine, one at a time.
type Handler struct {
	// Send receives each SEND chunk; the status answers it.
	Send func(ctx context.Context, c *msrp.Chunk) int
	// Complete is called when a message has fully arrived or ended early;
	// the status drives the REPORT the sender asked for.
	Complete func(ctx context.Context, c *msrp.Completion) int
	// Report receives REPORTs about messages this side sent.
	Report func(ctx context.Context, r *msrp.Report)
	// Methods handle other methods by name (NICKNAME, FILE_OFFSET, ...).
	Methods map[string]func(ctx context.Context, c *msrp.Chunk) int
	// Started runs once the session is up, after MediaStreamDidStart, on
	// the goroutine that connected; the Base's methods may be called. It
	// must return promptly: End waits for it.
	Started func(s *msrp.Session)
	// Closed runs in End once the connection is closed — no other hook
	// runs any more — and before MediaStreamDidEnd, without the Base's
	// lock: where a type finishes what it received (the file transfer
	// keeps a partial file) and posts its own last notifications.
	Closed func()
}

func (h Handler) msrp() msrp.Handler {
	funcs := msrp.HandlerFuncs{Chunk: h.Send, Complete: h.Complete, Report: h.Report}
	if len(h.Methods) > 0 {
		funcs.Request = func(ctx context.Context, c *msrp.Chunk) int {
			if f := h.Methods[c.Request.Method]; f != nil {
				return f(ctx, c)
			}
			return msrp.StatusNotImplemented
		}
	}
	return funcs
}

// Base implements the IMediaStream lifecycle of an MSRP stream, as the
// reference's MSRPStreamBase: a vendor embeds it, gives it a Config, and
// adds its own NewFromSDP checks, attributes and methods.
//
//   - Initialize reads msrp.transport, picks the connection role
//     (DecideRole) and, when it has to wait for the peer, listens on the
//     session's local address, or authenticates to the account's MSRP
//     relay for the Relay role.
//   - GetLocalMedia writes the m-line (offer or answer).
//   - Start reads the remote m-line, settles the role (ResolveAnswer),
//     and connects or accepts in the background; it posts
//     MediaStreamDidStart, or MediaStreamDidFail with context "start".
//   - A session that breaks later posts MediaStreamDidFail with context
//     "reading", unless Deactivate or End came first.
//   - Hold and Unhold do nothing: MSRP streams do not support hold.
//   - End closes everything, posting MediaStreamWillEnd and
//     MediaStreamDidEnd (MediaStreamDidNotInitialize "Interrupted" before
//     Initialize).
//
// The states and the generic notifications are an sdk.Lifecycle's.
//
// Base's methods are safe for concurrent use.
type Base struct {
	sdk.UnimplementedStream

	env     *sdk.Env
	account *sdk.Account
	cfg     Config
	offer   *Media // the remote offer when answering, else nil

	mu        sync.Mutex
	life      sdk.Lifecycle // state, notifications, the connecting goroutine
	transport Transport
	offerer   bool
	role      Role
	local     msrp.URI
	clientTLS *tls.Config
	serverTLS *tls.Config
	localFPs  []Fingerprint // of the certificates we present, for a=fingerprint
	listener  *msrp.Listener
	accepting *msrp.Accepting
	relay     *msrp.Relay   // the RFC 4976 relay we wait behind
	usePath   []msrp.URI    // the relay's Use-Path, before local in a=path
	pending   *msrp.Pending // the session registered at the relay
	remote    *Media
	session   *msrp.Session
}

var _ sdk.Stream = (*Base)(nil)

// New returns a Base for an outgoing stream (the offer is ours).
func New(env *sdk.Env, account *sdk.Account, cfg Config) *Base {
	if cfg.MediaType == "" {
		cfg.MediaType = DefaultMediaType
	}
	return &Base{env: env, account: account, cfg: cfg, life: sdk.NewLifecycle(env)}
}

// NewFromSDP returns a Base for m-line req.StreamIndex of an incoming
// offer, checked against the account's transport (Validate). An m-line of
// another media type than cfg's gives sdk.ErrUnknownStream; an MSRP m-line
// that cannot be accepted, sdk.ErrInvalidStream.
func NewFromSDP(req *sdk.NewFromSDPRequest, env *sdk.Env, cfg Config) (*Base, error) {
	if cfg.MediaType == "" {
		cfg.MediaType = DefaultMediaType
	}
	transport, err := TransportSetting(req.Account)
	if err != nil {
		return nil, err
	}
	offer, err := ParseMediaAt(req.RemoteSDP, req.StreamIndex, transport)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(offer.MediaType, cfg.MediaType) {
		return nil, sdk.Errorf(sdk.ErrUnknownStream, "m=%s is not m=%s", offer.MediaType, cfg.MediaType)
	}
	b := New(env, req.Account, cfg)
	b.offer = offer
	return b, nil
}

// Offer returns the remote offer the Base was built from, or nil for an
// outgoing stream.
func (b *Base) Offer() *Media { return b.offer }

// Initialize prepares the local end: transport, role, local URI, and a
// listener when the role waits for the peer. It posts
// MediaStreamDidInitialize or MediaStreamDidNotInitialize.
func (b *Base) Initialize(ctx context.Context, req *sdk.InitializeRequest) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cfg.Prepare != nil {
		return b.initializeAfterPrepare(req)
	}
	return b.life.Initialize(func() error { return b.setupLocked(ctx, req) })
}

// setupLocked is Initialize's setup; a failure leaves no relay behind.
func (b *Base) setupLocked(ctx context.Context, req *sdk.InitializeRequest) error {
	if b.cfg.PrepareLocked != nil {
		if err := b.cfg.PrepareLocked(); err != nil {
			return err
		}
	}
	err := b.initializeLocked(ctx, req)
	if err != nil && b.relay != nil {
		_ = b.relay.Close()
		b.relay, b.pending = nil, nil
	}
	return err
}

// initializeAfterPrepare runs Config.Prepare on a goroutine of the
// Lifecycle, then the setup, and posts the outcome; End interrupts it.
func (b *Base) initializeAfterPrepare(req *sdk.InitializeRequest) error {
	if err := b.life.Initializing(); err != nil {
		return err
	}
	b.life.Go(func(ctx context.Context) {
		err := b.cfg.Prepare(ctx)
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.life.State() != sdk.StateInitializing {
			return // End came first
		}
		if err == nil {
			err = b.setupLocked(ctx, req)
		}
		if err != nil {
			b.life.NotInitialized(sdk.ReasonOf(err))
			return
		}
		b.life.Initialized()
	})
	return nil
}

func (b *Base) initializeLocked(ctx context.Context, req *sdk.InitializeRequest) error {
	transport, err := TransportSetting(b.account)
	if err != nil {
		return err
	}
	b.transport = transport
	if transport.Secure() {
		b.clientTLS, b.serverTLS = b.cfg.ClientTLS, b.cfg.ServerTLS
		if b.clientTLS == nil || b.serverTLS == nil {
			client, server, err := TLSSettings(b.account)
			if err != nil {
				return err
			}
			if b.clientTLS == nil {
				b.clientTLS = client
			}
			if b.serverTLS == nil {
				b.serverTLS = server
			}
		}
		b.clientTLS, b.serverTLS, b.localFPs = shareCertificate(b.clientTLS, b.serverTLS)
	}
	ip, err := req.Session.LocalAddr()
	if err != nil {
		return err
	}
	host := ip.String()
	b.offerer = b.offer == nil
	in := RoleInput{
		PeerToPeer:       boolSetting(b.account, SettingPeerToPeer),
		Model:            ConnectionModel(strings.ToLower(b.account.Setting(SettingConnectionModel, string(ModelRelay)))),
		Offerer:          b.offerer,
		RelayForOutbound: boolSetting(b.account, SettingRelayForOutbound),
		// Without a relay the relay model listens, as DecideRole documents.
		RelayConfigured: strings.TrimSpace(b.account.Setting(SettingRelay, "")) != "",
	}
	if b.offer != nil {
		in.RemoteSetup = b.offer.Setup
	}
	b.role = DecideRole(in)
	switch b.role.Connect {
	case Relay:
		return b.reserveLocked(ctx)
	case Dial:
		b.local = msrp.URI{Secure: transport.Secure(), Host: host, Port: msrp.DefaultPort, SessionID: msrp.NewSessionID(), Transport: "tcp"}
		return nil
	}
	cfg := b.msrpConfig(b.serverTLS)
	l, err := msrp.Listen(ctx, net.JoinHostPort(host, "0"), cfg)
	if err != nil {
		return sdk.Errorf(sdk.ErrInternal, "listen on %s: %v", host, err)
	}
	b.listener, b.local = l, l.URI("")
	if b.offer != nil {
		// The answerer knows the peer's path already: register the session
		// now, so a peer that connects right after our answer is served.
		if err := b.prepareLocked(b.offer); err != nil {
			return err
		}
	}
	return nil
}

// reserveLocked authenticates to the account's relay (the reference's
// RelayConnection.prepare): our URI is the relay connection's, and our
// a=path starts with the relay's Use-Path. The answerer registers the
// session at once, as with a listener.
func (b *Base) reserveLocked(ctx context.Context) error {
	rc, err := relayConfig(b.account, b.transport)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, ConnectTimeout)
	defer cancel()
	r, err := msrp.ConnectRelay(ctx, rc, b.msrpConfig(b.clientTLS))
	if err != nil {
		return fmt.Errorf("MSRP relay %s: %w", rc.URI, err)
	}
	b.relay, b.local, b.usePath = r, r.LocalURI(), r.UsePath()
	if b.offer != nil {
		if err := b.expectLocked(b.offer.Path); err != nil {
			return err
		}
	}
	return nil
}

func (b *Base) expectLocked(remote []msrp.URI) error {
	p, err := b.relay.Expect(remote, b.cfg.Handler.msrp())
	if err != nil {
		return sdk.Errorf(sdk.ErrInternal, "wait for the peer at the relay: %v", err)
	}
	b.pending = p
	return nil
}

// prepareLocked registers the session the remote's connection will bind;
// when the remote announced a=fingerprint, its certificate must match.
func (b *Base) prepareLocked(remote *Media) error {
	opts := msrp.SessionOptions{Local: b.local, Remote: remote.Path, Handler: b.cfg.Handler.msrp()}
	if want := b.peerFingerprintsLocked(remote); len(want) > 0 {
		opts.VerifyPeer = func(st *tls.ConnectionState) error {
			if st == nil {
				return &FingerprintError{Want: want, Reason: "the peer connected without TLS"}
			}
			return CheckPeer(want, st.PeerCertificates)
		}
	}
	a, err := b.listener.Prepare(opts)
	if err != nil {
		return sdk.Errorf(sdk.ErrInternal, "wait for the peer: %v", err)
	}
	b.accepting = a
	return nil
}

// peerFingerprintsLocked returns the a=fingerprint values of the remote
// to check our TLS connection with it against: those of a direct
// connection only (our relay, or one in the remote's path, presents its
// own certificate, verified by name).
func (b *Base) peerFingerprintsLocked(remote *Media) []Fingerprint {
	if !b.transport.Secure() || b.role.Connect == Relay || len(remote.Path) != 1 {
		return nil
	}
	return remote.Fingerprints
}

// shareCertificate makes the client present the server's certificate when
// it has none of its own, makes the server ask for the client's, and
// returns the fingerprints of the certificates presented.
func shareCertificate(client, server *tls.Config) (*tls.Config, *tls.Config, []Fingerprint) {
	var fps []Fingerprint
	add := func(certs []tls.Certificate) {
		if len(certs) == 0 || len(certs[0].Certificate) == 0 {
			return
		}
		f := NewFingerprint(certs[0].Certificate[0])
		for _, x := range fps {
			if string(x.Value) == string(f.Value) {
				return
			}
		}
		fps = append(fps, f)
	}
	if len(client.Certificates) == 0 && len(server.Certificates) > 0 {
		client = client.Clone()
		client.Certificates = server.Certificates[:1]
	}
	if server.ClientAuth == tls.NoClientCert {
		server = server.Clone()
		server.ClientAuth = tls.RequestClientCert
	}
	add(server.Certificates)
	add(client.Certificates)
	return client, server, fps
}

// dialTLS is the client configuration for a direct connection to a peer
// that announced want: its certificate is checked against them rather than
// against certificate authorities.
func dialTLS(client *tls.Config, want []Fingerprint) *tls.Config {
	if client == nil || len(want) == 0 {
		return client
	}
	c := client.Clone()
	c.InsecureSkipVerify = true //nolint:gosec // VerifyConnection checks a=fingerprint
	c.VerifyConnection = func(cs tls.ConnectionState) error { return CheckPeer(want, cs.PeerCertificates) }
	return c
}

func boolSetting(a *sdk.Account, name string) bool {
	v, _ := strconv.ParseBool(strings.TrimSpace(a.Setting(name, "false")))
	return v
}

// LocalMedia returns the local media section as GetLocalMedia writes it.
func (b *Base) LocalMedia() (*Media, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.localMediaLocked()
}

func (b *Base) localMediaLocked() (*Media, error) {
	if b.life.In(sdk.StateNew, sdk.StateEnded) || b.local.Host == "" {
		return nil, sdk.Errorf(sdk.ErrIllegalState, "no local media in state %s", b.life.State())
	}
	m := &Media{
		MediaType:          b.cfg.MediaType,
		Transport:          b.transport,
		Path:               append(append([]msrp.URI(nil), b.usePath...), b.local),
		Direction:          b.cfg.Direction,
		AcceptTypes:        b.cfg.AcceptTypes,
		AcceptWrappedTypes: b.cfg.AcceptWrappedTypes,
		Setup:              b.role.Setup,
		MaxSize:            b.cfg.MaxSize,
		Attributes:         b.cfg.Attributes,
	}
	if b.transport.Secure() && b.role.Connect != Relay {
		// Behind a relay, peers connect to the relay, not to us.
		m.Fingerprints = b.localFPs
	}
	return m, nil
}

// GetLocalMedia returns the local m-line. For an answer the remote m-line
// is checked first.
func (b *Base) GetLocalMedia(_ context.Context, req *sdk.GetLocalMediaRequest) (*sdk.GetLocalMediaResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	m, err := b.localMediaLocked()
	if err != nil {
		return nil, err
	}
	if !req.ForOffer && req.RemoteSDP != "" {
		if _, err := ParseMediaAt(req.RemoteSDP, req.StreamIndex, b.transport); err != nil {
			return nil, err
		}
	}
	text, err := m.Marshal()
	if err != nil {
		return nil, err
	}
	return &sdk.GetLocalMediaResponse{Media: text}, nil
}

// Start reads the remote m-line and connects in the background. The
// outcome is MediaStreamDidStart, or MediaStreamDidFail with context
// "start".
func (b *Base) Start(_ context.Context, req *sdk.StartRequest) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.life.Starting(); err != nil {
		return err
	}
	if err := b.startLocked(req); err != nil {
		b.life.Fail("start", sdk.ReasonOf(err))
	}
	return nil
}

func (b *Base) startLocked(req *sdk.StartRequest) error {
	remote, err := ParseMediaAt(req.RemoteSDP, req.StreamIndex, b.transport)
	if err != nil {
		return err
	}
	role := b.role
	if b.offerer {
		if role, err = ResolveAnswer(b.role, remote.Setup); err != nil {
			return err
		}
	}
	b.remote, b.role = remote, role
	switch {
	case role.Connect == Dial && b.listener != nil:
		// An actpass offer answered passive: we connect after all.
		_ = b.listener.Close()
		b.listener, b.accepting = nil, nil
	case role.Connect == Listen && b.accepting == nil:
		if err := b.prepareLocked(remote); err != nil {
			return err
		}
	case role.Connect == Relay && role.Setup != SetupActive && b.pending == nil:
		if err := b.expectLocked(remote.Path); err != nil {
			return err
		}
	}
	var establish func(context.Context) (*msrp.Session, error)
	switch path, h := remote.Path, b.cfg.Handler.msrp(); {
	case role.Connect == Dial:
		cfg := b.msrpConfig(dialTLS(b.clientTLS, b.peerFingerprintsLocked(remote)))
		establish = func(ctx context.Context) (*msrp.Session, error) {
			return bindRetrying(ctx, func(ctx context.Context) (*msrp.Session, error) {
				return msrp.Dial(ctx, b.local, path, h, cfg)
			})
		}
	case role.Connect == Relay && role.Setup == SetupActive:
		// An actpass offer answered passive: we bind through the relay.
		r := b.relay
		establish = func(ctx context.Context) (*msrp.Session, error) {
			return bindRetrying(ctx, func(ctx context.Context) (*msrp.Session, error) {
				return r.Bind(ctx, path, h)
			})
		}
	case role.Connect == Relay:
		establish = b.pending.Accept
	default:
		establish = b.accepting.Accept
	}
	b.life.Go(func(ctx context.Context) { b.connect(ctx, role, remote.Path, establish) })
	return nil
}

// connect establishes the session, within ConnectTimeout, then watches it
// until it closes or the Base ends (ctx). It is the Base's only goroutine,
// owned by its Lifecycle: End cancels and awaits it.
func (b *Base) connect(ctx context.Context, role Role, path []msrp.URI, establish func(context.Context) (*msrp.Session, error)) {
	connectCtx, cancel := context.WithTimeout(ctx, ConnectTimeout)
	defer cancel()
	sess, err := establish(connectCtx)
	b.mu.Lock()
	if b.life.State() != sdk.StateStarting {
		if sess != nil && !b.life.Closing() {
			// A hook failed the stream while it was connecting: a peer
			// may send as soon as the session is bound, before it is
			// marked started here. The session stays until End, as after
			// any failure, so that the hook's response and REPORT still
			// reach the peer.
			b.session = sess
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
		if sess != nil {
			_ = sess.Close()
		}
		return
	}
	if err != nil {
		b.life.Fail("start", connectReason(role, path, err))
		b.mu.Unlock()
		return
	}
	b.session = sess
	b.life.Started()
	b.mu.Unlock()
	if b.cfg.Handler.Started != nil {
		b.cfg.Handler.Started(sess)
	}
	select {
	case <-sess.Done():
		b.mu.Lock()
		if b.life.State() == sdk.StateStarted {
			reason := "MSRP session closed"
			if e := sess.Err(); e != nil && !errors.Is(e, msrp.ErrClosed) {
				reason = e.Error()
			}
			b.life.TransportClosed("reading", reason)
		}
		b.mu.Unlock()
	case <-ctx.Done():
	}
}

// bindRetrying runs bind (connect and send the binding SEND) until it
// succeeds. A peer that waits for us may not have registered the session
// yet when we are quick (an actpass offerer learns our path only from the
// answer, while we may connect as soon as we have answered): its 481 is
// retried with back-off until ctx ends. When the retries end without a
// session — ctx ended, or the peer went away (its port closed) after
// refusing — the error is the peer's refusal (an *msrp.BindError naming
// the 481), with what ended the retries in its text.
func bindRetrying(ctx context.Context, bind func(context.Context) (*msrp.Session, error)) (*msrp.Session, error) {
	wait := 20 * time.Millisecond
	var refused error // the peer's last 481
	for {
		sess, err := bind(ctx)
		switch {
		case err == nil:
			return sess, nil
		case errors.Is(err, msrp.ErrNoSuchSession):
			refused = err
		case refused != nil:
			return nil, fmt.Errorf("%w (retrying: %v)", refused, err)
		default:
			return nil, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, refused
		case <-t.C:
		}
		wait = min(2*wait, time.Second)
	}
}

func connectReason(role Role, path []msrp.URI, err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		switch {
		case role.Connect == Dial:
			return "timed out connecting to " + path[0].String()
		case role.Connect == Relay && role.Setup == SetupActive:
			return "timed out binding through the MSRP relay to " + path[len(path)-1].String()
		case role.Connect == Relay:
			return "timed out waiting for the peer at the MSRP relay"
		}
		return "timed out waiting for the peer to connect"
	}
	return err.Error()
}

// ValidateUpdate accepts every re-INVITE, as the reference's MSRP streams do.
func (b *Base) ValidateUpdate(context.Context, *sdk.ValidateUpdateRequest) (*sdk.ValidateUpdateResponse, error) {
	return &sdk.ValidateUpdateResponse{OK: true}, nil
}

// Update does nothing: an established MSRP session is not renegotiated.
func (b *Base) Update(context.Context, *sdk.UpdateRequest) error { return nil }

// Hold does nothing: MSRP streams do not support hold.
func (b *Base) Hold(context.Context) error { return nil }

// Unhold does nothing: MSRP streams do not support hold.
func (b *Base) Unhold(context.Context) error { return nil }

// Reset does nothing.
func (b *Base) Reset(context.Context, *sdk.ResetRequest) error { return nil }

// Deactivate marks the start of teardown: the session closing from now on
// is not a failure.
func (b *Base) Deactivate(context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.life.Deactivate()
	return nil
}

// End stops the goroutine and closes the session, the listener and the
// relay connection. Its notifications are the Lifecycle's:
// MediaStreamWillEnd then MediaStreamDidEnd with the last failure, or,
// before Initialize, MediaStreamDidNotInitialize with reason
// "Interrupted". A second End does nothing.
func (b *Base) End(context.Context) error {
	return b.life.End(&b.mu, func(sdk.StreamState) func() {
		sess, listener, relay := b.session, b.listener, b.relay
		b.session, b.listener, b.accepting, b.relay, b.pending = nil, nil, nil, nil, nil
		return func() {
			if sess != nil {
				_ = sess.Close()
			}
			if listener != nil {
				_ = listener.Close()
			}
			if relay != nil {
				_ = relay.Close()
			}
			if b.cfg.Handler.Closed != nil {
				b.cfg.Handler.Closed()
			}
		}
	})
}

// Attributes reports a stream without hold support. Vendors with
// attributes of their own override it.
func (b *Base) Attributes(context.Context) (*sdk.Attributes, error) {
	return &sdk.Attributes{}, nil
}

// SetAttributes replaces the type's own SDP attributes (Config.Attributes)
// of the media sections GetLocalMedia writes from now on: a file transfer
// learns its file's hash only once Initialize has computed it.
func (b *Base) SetAttributes(attrs []sdp.Attribute) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cfg.Attributes = append([]sdp.Attribute(nil), attrs...)
}

// Fail fails the stream for a reason of the type's own (a file transfer's
// peer sent what it must not, a transfer could not go on): it posts
// MediaStreamDidFail with where ("reading", "transferring", …) and reason,
// which MediaStreamDidEnd will carry. It does nothing unless the stream is
// starting or started, and not closing; it reports whether it failed it.
func (b *Base) Fail(where, reason string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.life.In(sdk.StateStarting, sdk.StateStarted) || b.life.Closing() {
		return false
	}
	b.life.Fail(where, reason)
	return true
}

// Session returns the MSRP session, or nil until MediaStreamDidStart (or
// until a hook failed the stream while it was connecting).
func (b *Base) Session() *msrp.Session {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.session
}

// Send queues an outgoing message on the session. Before the stream has
// started, or after it failed or ended, it fails with sdk.ErrIllegalState.
func (b *Base) Send(ctx context.Context, o msrp.Outgoing) (*msrp.Delivery, error) {
	b.mu.Lock()
	sess, st := b.session, b.life.State()
	b.mu.Unlock()
	if sess == nil || st != sdk.StateStarted {
		return nil, sdk.Errorf(sdk.ErrIllegalState, "send in state %s", st)
	}
	return sess.Send(ctx, o)
}

// Role returns the connection role: the one picked by Initialize, then the
// one settled by Start.
func (b *Base) Role() Role {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.role
}

// Remote returns the remote media section read by Start, or nil before.
func (b *Base) Remote() *Media {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.remote
}

// CPIMEnabled reports whether message/cpim is in both the local and the
// remote accept-types (the reference's cpim_enabled); false before Start.
func (b *Base) CPIMEnabled() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.remote != nil && hasType(b.cfg.AcceptTypes, "message/cpim") && hasType(b.remote.AcceptTypes, "message/cpim")
}

func hasType(types []string, t string) bool {
	for _, x := range types {
		if strings.EqualFold(x, t) {
			return true
		}
	}
	return false
}
