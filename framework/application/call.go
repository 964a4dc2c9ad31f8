package application

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sipstreams/sipstreams/framework/engine"
	"github.com/sipstreams/sipstreams/framework/session"
	"github.com/sipstreams/sipstreams/sdk"
)

// endTimeout bounds the End of the streams of an abandoned call.
const endTimeout = 10 * time.Second

// CallOption configures a call made with [Application.NewCall] or
// [Application.Call].
type CallOption func(*callOptions)

type callOptions struct {
	account string
	routes  []engine.Route
	subject string
	connect []session.ConnectOption
}

// WithConnectOptions passes options to the session's Connect: headers of
// the INVITE, a transfer's Referred-By and Replaces, isfocus.
func WithConnectOptions(opts ...session.ConnectOption) CallOption {
	return func(o *callOptions) { o.connect = append(o.connect, opts...) }
}

// WithAccount calls from the configured account id (its address of
// record, display name, credentials for a 401/407, outbound proxy and
// settings) instead of the peer-to-peer account.
func WithAccount(id string) CallOption { return func(o *callOptions) { o.account = id } }

// WithRoutes sends the INVITE over routes, tried in order, instead of the
// routes found for the target (the account's outbound proxy, else RFC
// 3263 on the target's URI).
func WithRoutes(routes ...engine.Route) CallOption {
	return func(o *callOptions) { o.routes = slices.Clone(routes) }
}

// WithSubject sets the Subject header of the INVITE.
func WithSubject(subject string) CallOption { return func(o *callOptions) { o.subject = subject } }

// Call is an outgoing call being set up: its [session.Session], not
// connected yet, and the streams created for it. Make one with
// [Application.NewCall], add streams with [Call.AddStream] (and use them
// before the session starts if their type allows: a chat stream queues the
// messages sent to it), then [Call.Connect]. [Call.Close] abandons a call
// that was not connected; deferring it right after NewCall is the usual
// pattern. A Call is safe for concurrent use.
type Call struct {
	app     *Application
	s       *session.Session
	acc     *session.Account
	target  sip.Uri
	routes  []engine.Route
	subject string
	connect []session.ConnectOption
	info    *sdk.SessionInfo // what the streams are prepared with

	mu        sync.Mutex
	streams   []session.Stream
	connected bool
	closed    bool
}

// NewCall prepares a call to target: it finds the account (the
// peer-to-peer one unless [WithAccount]), the routes (unless
// [WithRoutes]: the account's outbound proxy, else the target's own RFC
// 3263 routes, looked up within ctx) and the local address that reaches
// the first route, then makes the session. The error matches
// [ErrNotRunning], account.ErrNotFound, engine.ErrNoRoute or
// [ErrUnreachable].
func (a *Application) NewCall(ctx context.Context, target sip.Uri, opts ...CallOption) (*Call, error) {
	var o callOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	a.mu.Lock()
	eng, sessions, p2p := a.eng, a.sessions, a.account
	a.mu.Unlock()
	if sessions == nil {
		return nil, ErrNotRunning
	}
	acc := p2p
	if o.account != "" {
		var err error
		if acc, err = a.SessionAccount(o.account); err != nil {
			return nil, fmt.Errorf("application: calling from %q: %w", o.account, err)
		}
	}
	routes := o.routes
	if len(routes) == 0 {
		var err error
		if routes, err = a.Routes(ctx, acc.ID, target); err != nil {
			return nil, err
		}
	}
	contact := eng.ContactFor(routes[0], acc.URI.User)
	if contact.Host == "" {
		return nil, &UnreachableError{Route: routes[0], Addrs: eng.Addrs()}
	}
	s := sessions.NewSessionAs(acc)
	return &Call{
		app: a, s: s, acc: acc, target: target, routes: routes, subject: o.subject, connect: o.connect,
		info: &sdk.SessionInfo{
			ID:             s.CallID(),
			Direction:      sdk.DirectionOutgoing,
			LocalIdentity:  acc.URI.String(),
			RemoteIdentity: target.String(),
			LocalIP:        strings.Trim(contact.Host, "[]"),
		},
	}, nil
}

// Session returns the call's session: subscribe to its notifications
// before [Call.Connect] to see every one of them.
func (c *Call) Session() *session.Session { return c.s }

// Target returns the URI called.
func (c *Call) Target() sip.Uri { return c.target }

// Routes returns the routes the INVITE goes over, in order.
func (c *Call) Routes() []engine.Route { return slices.Clone(c.routes) }

// Account returns the identity the call is made from.
func (c *Call) Account() *session.Account { return c.acc }

// LocalIP returns the local address the session signals on and its
// streams bind on.
func (c *Call) LocalIP() string { return c.info.LocalIP }

// Streams returns the streams added so far.
func (c *Call) Streams() []session.Stream {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.streams)
}

// AddStream creates a stream of type typ for the call, with the account's
// settings, initialized and holding its offer (sdk.Prepare), and adds it
// to the streams [Call.Connect] offers. The error is a *[StreamError]
// (wrapping sdk.ErrUnknownStream for a type no plugin serves), or
// [ErrCallPlaced] once the call was connected or closed.
func (c *Call) AddStream(ctx context.Context, typ string, opts ...StreamOption) (session.Stream, error) {
	if err := c.open(); err != nil {
		return nil, err
	}
	st, err := c.app.createStream(ctx, c.acc, c.info, typ, opts)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.connected || c.closed {
		endStreams(st)
		return nil, ErrCallPlaced
	}
	c.streams = append(c.streams, st)
	return st, nil
}

func (c *Call) open() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.connected || c.closed {
		return ErrCallPlaced
	}
	return nil
}

// Connect sends the INVITE with the streams added (see
// [session.Session.Connect]): SIPSessionNewOutgoing is posted before it
// returns, the outcome (SIPSessionDidStart or SIPSessionDidFail) later.
// From then on the session owns the streams. It fails with
// session.ErrNoStreams when no stream was added, [ErrCallPlaced] when
// called twice or after Close; on an error the streams stay the call's
// (Close ends them).
func (c *Call) Connect(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.connected || c.closed {
		return ErrCallPlaced
	}
	if err := c.s.Connect(ctx, c.target, c.routes, c.streams, c.subject, c.connect...); err != nil {
		return err
	}
	c.connected = true
	return nil
}

// Close abandons a call that was not connected: it ends the streams added
// and the session (which posts SIPSessionDidFail, "user request"). After
// a successful Connect it does nothing: end the session with
// [session.Session.End].
func (c *Call) Close() {
	c.mu.Lock()
	if c.connected || c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	streams := c.streams
	c.streams = nil
	c.mu.Unlock()
	endStreams(streams...)
	c.s.End()
}

// Call places a call to target carrying one new stream of each of types,
// in one step: [Application.NewCall], [Call.AddStream] per type,
// [Call.Connect]. It returns the session once SIPSessionNewOutgoing was
// posted; the outcome follows as notifications. To see every notification
// of the session, subscribe (sender nil) before calling, or use NewCall
// and subscribe to [Call.Session]. On an error nothing is left running.
func (a *Application) Call(ctx context.Context, target sip.Uri, types []string, opts ...CallOption) (*session.Session, error) {
	c, err := a.NewCall(ctx, target, opts...)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	for _, typ := range types {
		if _, err := c.AddStream(ctx, typ); err != nil {
			return nil, err
		}
	}
	if err := c.Connect(ctx); err != nil {
		return nil, err
	}
	return c.s, nil
}

// endStreams ends streams no session owns (bounded by endTimeout).
func endStreams(streams ...session.Stream) {
	if len(streams) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), endTimeout)
	defer cancel()
	for _, st := range streams {
		_ = st.End(ctx)
	}
}

// placeTransferCall places the call of a transfer the application
// accepted (session.Config.Transfer): from the transferred session's
// account to the target, one stream per type that can be made (the
// reference makes audio only; at least one must be), with the transfer's
// Referred-By and Replaces.
func (a *Application) placeTransferCall(ctx context.Context, tc session.TransferCall) (*session.Session, error) {
	opts := []CallOption{WithConnectOptions(tc.Options...)}
	if tc.Account != nil {
		a.mu.Lock()
		p2p := a.account
		a.mu.Unlock()
		if p2p == nil || tc.Account.ID != p2p.ID {
			opts = append(opts, WithAccount(tc.Account.ID))
		}
	}
	c, err := a.NewCall(ctx, tc.Target, opts...)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var errs []error
	for _, typ := range tc.Types {
		if _, err := c.AddStream(ctx, typ); err != nil {
			errs = append(errs, err)
		}
	}
	if len(c.Streams()) == 0 {
		return nil, fmt.Errorf("application: no stream for the transferred call: %w", errors.Join(append(errs, session.ErrNoStreams)...))
	}
	if tc.Watch != nil {
		tc.Watch(c.Session())
	}
	if err := c.Connect(ctx); err != nil {
		return nil, err
	}
	return c.Session(), nil
}
