package msrp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"
)

// DialConn opens a connection to addr (host:port), over TLS when secure.
// The Conn is not owned by any session: close it yourself.
func DialConn(ctx context.Context, addr string, secure bool, cfg Config) (*Conn, error) {
	return dialConn(ctx, addr, secure, cfg, false)
}

func dialConn(ctx context.Context, addr string, secure bool, cfg Config, owned bool) (*Conn, error) {
	d := cfg.Dialer
	if d == nil {
		d = &net.Dialer{}
	}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, &TransportError{Err: err}
	}
	if secure {
		tc := cfg.TLSConfig
		if tc == nil {
			nc.Close()
			return nil, fmt.Errorf("%w: msrps needs Config.TLSConfig", ErrInvalidArgument)
		}
		if tc.ServerName == "" && !tc.InsecureSkipVerify {
			tc = tc.Clone()
			host, _, _ := net.SplitHostPort(addr)
			tc.ServerName = host
		}
		tlsConn := tls.Client(nc, tc)
		if err := tlsConn.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, &TransportError{Err: err}
		}
		nc = tlsConn
	}
	return newConn(nc, cfg, owned, nil), nil
}

// Dial starts the active side of a session (RFC 4975 §5.4 and the
// reference's DirectConnector): it connects to the first URI of remote
// (TLS for msrps), then binds with an empty SEND and waits for the 200.
// The connection closes with the session.
func Dial(ctx context.Context, local URI, remote []URI, h Handler, cfg Config) (*Session, error) {
	if len(remote) == 0 {
		return nil, fmt.Errorf("%w: empty remote path", ErrInvalidArgument)
	}
	c, err := dialConn(ctx, remote[0].Addr(), remote[0].Secure, cfg, true)
	if err != nil {
		return nil, err
	}
	s, err := c.Bind(ctx, SessionOptions{Local: local, Remote: remote, Handler: h})
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	return s, nil
}

// Listener is the passive side: it accepts TCP or TLS connections and
// routes each by the session-id of its requests' To-Path to the session
// waiting in Accept. A request for an unknown session-id gets 481.
type Listener struct {
	ln  net.Listener
	cfg Config

	mu      sync.Mutex
	waiting map[string]*listenWait
	conns   map[*Conn]struct{}
	closed  bool
	wg      sync.WaitGroup
}

type listenWait struct {
	opts  SessionOptions
	bound chan bindResult
}

// bindResult ends a listenWait: the bound session, or why the session
// refused the connection that named it (VerifyPeer). Both are nil when
// the Listener closed.
type bindResult struct {
	s   *Session
	err error
}

// Listen listens on a TCP address such as "127.0.0.1:0"; with
// cfg.TLSConfig set, connections are TLS (msrps).
func Listen(ctx context.Context, addr string, cfg Config) (*Listener, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, &TransportError{Err: err}
	}
	if cfg.TLSConfig != nil {
		ln = tls.NewListener(ln, cfg.TLSConfig)
	}
	return NewListener(ln, cfg), nil
}

// NewListener serves MSRP on ln, which it now owns.
func NewListener(ln net.Listener, cfg Config) *Listener {
	l := &Listener{ln: ln, cfg: cfg.withDefaults(), waiting: map[string]*listenWait{}, conns: map[*Conn]struct{}{}}
	l.wg.Add(1)
	go l.acceptLoop()
	return l
}

// Addr returns the listening address.
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// URI returns a local URI on the listening address with the given
// session-id (a fresh one when empty), msrps when the Listener uses TLS.
// Listen on a specific address, not a wildcard, for the URI to be
// reachable as it is.
func (l *Listener) URI(sessionID string) URI {
	if sessionID == "" {
		sessionID = NewSessionID()
	}
	host, port, _ := net.SplitHostPort(l.ln.Addr().String())
	p, _ := strconv.Atoi(port)
	return URI{Secure: l.cfg.TLSConfig != nil, Host: host, Port: p, SessionID: sessionID, Transport: "tcp"}
}

// Prepare registers a session to be accepted, so that a peer that connects
// before Accept runs is not refused. Call Accept on the result; a Prepare
// without Accept is withdrawn by Close.
func (l *Listener) Prepare(opts SessionOptions) (*Accepting, error) {
	if opts.Local.SessionID == "" || len(opts.Remote) == 0 {
		return nil, fmt.Errorf("%w: session needs a local session-id and a remote path", ErrInvalidArgument)
	}
	w := &listenWait{opts: opts, bound: make(chan bindResult, 1)}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, ErrClosed
	}
	if _, dup := l.waiting[opts.Local.SessionID]; dup {
		return nil, fmt.Errorf("%w: session-id %q already waiting", ErrInvalidArgument, opts.Local.SessionID)
	}
	l.waiting[opts.Local.SessionID] = w
	return &Accepting{l: l, w: w}, nil
}

// Accepting is a session registered with Listener.Prepare.
type Accepting struct {
	l *Listener
	w *listenWait
}

// Accept waits until the peer's first request binds the session, within
// Config.BindTimeout. When ctx ends first, the registration is withdrawn.
// When the session's VerifyPeer refuses the connection that names it,
// Accept fails with VerifyPeer's error.
func (a *Accepting) Accept(ctx context.Context) (*Session, error) {
	t := time.NewTimer(a.l.cfg.BindTimeout)
	defer t.Stop()
	var res bindResult
	select {
	case res = <-a.w.bound:
	case <-ctx.Done():
		if res = a.withdraw(); res.s == nil && res.err == nil {
			return nil, ctx.Err()
		}
	case <-t.C:
		if res = a.withdraw(); res.s == nil && res.err == nil {
			return nil, fmt.Errorf("%w: no connection for session %q", ErrTimeout, a.w.opts.Local.SessionID)
		}
	}
	switch {
	case res.err != nil:
		return nil, res.err
	case res.s == nil:
		return nil, ErrClosed
	}
	return res.s, nil
}

// withdraw unregisters the wait; it returns the outcome of a binding that
// happened meanwhile, or a zero bindResult.
func (a *Accepting) withdraw() bindResult {
	a.l.mu.Lock()
	if a.l.waiting[a.w.opts.Local.SessionID] == a.w {
		delete(a.l.waiting, a.w.opts.Local.SessionID)
	}
	a.l.mu.Unlock()
	select {
	case res := <-a.w.bound:
		return res
	default:
		return bindResult{}
	}
}

// Accept is Prepare followed by Accepting.Accept.
func (l *Listener) Accept(ctx context.Context, local URI, remote []URI, h Handler) (*Session, error) {
	a, err := l.Prepare(SessionOptions{Local: local, Remote: remote, Handler: h})
	if err != nil {
		return nil, err
	}
	return a.Accept(ctx)
}

// Close stops listening and closes every connection it accepted, with
// their sessions.
func (l *Listener) Close() error {
	l.mu.Lock()
	l.closed = true
	conns := l.conns
	l.conns = map[*Conn]struct{}{}
	waiting := l.waiting
	l.waiting = map[string]*listenWait{}
	l.mu.Unlock()
	err := l.ln.Close()
	for _, w := range waiting {
		close(w.bound)
	}
	for c := range conns {
		_ = c.Close()
	}
	l.wg.Wait()
	return err
}

func (l *Listener) acceptLoop() {
	defer l.wg.Done()
	for {
		nc, err := l.ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				l.cfg.Logger.Debug("accept failed", "err", err)
			}
			return
		}
		l.wg.Add(1)
		go l.serve(nc)
	}
}

// claim binds a session-id that a Listener waits for to connection c,
// once the session's VerifyPeer accepts c; when it does not, the wait is
// withdrawn and refuse ends it with the error (the connection calls it
// once its 403 is written).
func (l *Listener) claim(c *Conn, sessionID string, from []URI) (*Session, func(), error) {
	l.mu.Lock()
	w, ok := l.waiting[sessionID]
	if !ok {
		l.mu.Unlock()
		return nil, nil, nil
	}
	s := newSession(w.opts)
	if !s.fromMatches(from) {
		l.mu.Unlock()
		return nil, nil, nil
	}
	if err := s.verifyPeer(c); err != nil {
		delete(l.waiting, sessionID)
		l.mu.Unlock()
		return nil, func() { w.bound <- bindResult{err: err} }, err
	}
	if !c.adopt(s) {
		l.mu.Unlock()
		return nil, nil, nil
	}
	delete(l.waiting, sessionID)
	l.mu.Unlock()
	w.bound <- bindResult{s: s}
	return s, nil, nil
}

// serve completes the TLS handshake off the accept loop, then starts a
// Conn that claims sessions from the Listener.
func (l *Listener) serve(nc net.Conn) {
	defer l.wg.Done()
	if tc, ok := nc.(*tls.Conn); ok {
		ctx, cancel := context.WithTimeout(context.Background(), l.cfg.BindTimeout)
		err := tc.HandshakeContext(ctx)
		cancel()
		if err != nil {
			l.cfg.Logger.Debug("TLS handshake failed", "err", err)
			nc.Close()
			return
		}
	}
	c := newConn(nc, l.cfg, true, l.claim)
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		_ = c.Close()
		return
	}
	l.conns[c] = struct{}{}
	l.mu.Unlock()
	defer l.forget(c)
	// A connection that binds no session in time is dropped.
	t := time.NewTimer(l.cfg.BindTimeout)
	defer t.Stop()
	select {
	case <-t.C:
		c.mu.Lock()
		idle := !c.hadSessions
		c.mu.Unlock()
		if idle {
			_ = c.Close()
		}
	case <-c.Done():
	}
	<-c.Done()
	c.wg.Wait()
}

func (l *Listener) forget(c *Conn) {
	l.mu.Lock()
	delete(l.conns, c)
	l.mu.Unlock()
}
