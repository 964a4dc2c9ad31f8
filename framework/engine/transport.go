package engine

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// The engine owns every socket sipgo reads and writes, so that it can see
// the raw bytes (for the SIP trace and the User-Agent stamp) without
// sipgo's package-level debug switch:
//
//   - UDP: the listening socket handed to sipgo is a *packetConn; requests
//     are sent from it too (the engine sets Request.Laddr), so that Via
//     and the source port are the listening port, as RFC 3261 §18.1.1 and
//     RFC 3581 expect.
//   - TCP and TLS, accepted: the listener handed to sipgo is a *tapListener
//     whose connections are *streamConn.
//   - TCP and TLS, outgoing: sipgo's dialer cannot be wrapped (it is a
//     net.Dialer value), so the engine dials itself, wraps the connection
//     in a *streamConn and hands it to sipgo through a second listener,
//     an *injectListener, that sipgo serves like any other. sipgo then
//     files the connection in its pool under the remote address, and the
//     transaction layer finds it there when it looks for a connection to
//     that address.

// dialTimeout bounds an outgoing TCP connect plus TLS handshake.
const dialTimeout = 10 * time.Second

// packetConn is the UDP listening socket as sipgo sees it. ReadFrom is
// called by sipgo's single reader goroutine only.
type packetConn struct {
	net.PacketConn
	e     *Engine
	ready chan struct{} // closed at the first ReadFrom
	once  sync.Once

	// paused is closed when the reader parks during Close (see park).
	paused    chan struct{}
	pauseOnce sync.Once

	// seen holds every remote address read from, which sipgo files in its
	// pool; Close replaces those entries. Reader goroutine only, until it
	// parks.
	seen map[string]struct{}
	last string
}

func newPacketConn(pc net.PacketConn, e *Engine) *packetConn {
	return &packetConn{
		PacketConn: pc, e: e,
		ready:  make(chan struct{}),
		paused: make(chan struct{}),
		seen:   make(map[string]struct{}),
	}
}

func (c *packetConn) markReady() { c.once.Do(func() { close(c.ready) }) }

// ReadFrom reads a datagram and traces it. sipgo files the socket in its
// pool before it first reads, so the first call tells Start that requests
// can be sent from the socket. Once Close has begun, ReadFrom drops what
// it read and parks until Close releases it, then reports net.ErrClosed.
func (c *packetConn) ReadFrom(b []byte) (int, net.Addr, error) {
	c.markReady()
	n, addr, err := c.PacketConn.ReadFrom(b)
	select {
	case <-c.e.done:
		c.pauseOnce.Do(func() { close(c.paused) })
		<-c.e.release
		return 0, nil, net.ErrClosed
	default:
	}
	if err == nil {
		if s := addr.String(); s != c.last {
			c.last = s
			c.seen[s] = struct{}{}
		}
		if c.e.tracing && !isKeepAlive(b[:n]) {
			c.e.trace(true, TransportUDP, addr, c.LocalAddr(), b[:n])
		}
	}
	return n, addr, err
}

// WriteTo stamps the User-Agent header, writes the datagram and traces it.
func (c *packetConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	out, _ := stampUserAgent(b, c.e.cfg.UserAgent)
	n, err := c.PacketConn.WriteTo(out, addr)
	if err == nil && c.e.tracing && !isKeepAlive(out) {
		c.e.trace(false, TransportUDP, c.LocalAddr(), addr, out)
	}
	return written(n, len(b), len(out)), err
}

// written maps the count of bytes written from a stamped buffer (out
// bytes long) back to the caller's buffer (in bytes long): sipgo checks
// that the whole of its buffer was written.
func written(n, in, out int) int {
	if n >= out {
		return in
	}
	return min(n, in)
}

// streamConn is a TCP or TLS connection as sipgo sees it. sipgo's reader
// goroutine is its only reader; writes come from any goroutine, one whole
// message per Write (net.Conn and tls.Conn serialise concurrent writes).
type streamConn struct {
	net.Conn
	e         *Engine
	transport Transport
	rf        framer // reads only

	paused    chan struct{} // closed when the reader parks during Close
	pauseOnce sync.Once
	finished  chan struct{} // closed when nobody reads the connection any more
	once      sync.Once
}

// Read reads from the connection and traces every complete message. The
// first error ends the connection for sipgo, whose reader then returns;
// the engine counts that as the end of the reader. Once Close has begun,
// Read drops what it read and parks until Close releases it.
func (c *streamConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	select {
	case <-c.e.done:
		c.pauseOnce.Do(func() { close(c.paused) })
		<-c.e.release
		c.finish()
		return 0, net.ErrClosed
	default:
	}
	if n > 0 && c.e.tracing {
		c.rf.feed(b[:n], func(m []byte) {
			c.e.trace(true, c.transport, c.RemoteAddr(), c.LocalAddr(), m)
		})
	}
	if err != nil {
		c.finish()
	}
	return n, err
}

// Write stamps the User-Agent header, writes and traces.
func (c *streamConn) Write(b []byte) (int, error) {
	if isKeepAlive(b) {
		return c.Conn.Write(b)
	}
	out, _ := stampUserAgent(b, c.e.cfg.UserAgent)
	n, err := c.Conn.Write(out)
	if err == nil && c.e.tracing {
		c.e.trace(false, c.transport, c.LocalAddr(), c.RemoteAddr(), out)
	}
	return written(n, len(b), len(out)), err
}

// finish tells the engine that nobody reads c any more.
func (c *streamConn) finish() {
	c.once.Do(func() {
		close(c.finished)
		c.e.untrack(c)
	})
}

// abandon closes a connection that was never handed to sipgo.
func (c *streamConn) abandon() {
	_ = c.Conn.Close()
	c.finish()
}

// tapListener accepts TCP connections for sipgo, wrapping each (in TLS
// first, for a "tls" listener) in a *streamConn.
type tapListener struct {
	net.Listener
	e         *Engine
	transport Transport
	tlsConfig *tls.Config // server side of a "tls" listener, else nil
}

// Accept waits for a connection. Temporary errors (such as running out of
// file descriptors) are retried with back-off, since sipgo stops serving
// on any error; closing the listener ends Accept with net.ErrClosed.
func (l *tapListener) Accept() (net.Conn, error) {
	var delay time.Duration
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil, err
			}
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			l.e.log.Warn("accept failed; retrying", "transport", l.transport, "error", err, "delay", delay)
			t := time.NewTimer(delay)
			select {
			case <-t.C:
				continue
			case <-l.e.done:
				t.Stop()
				return nil, net.ErrClosed
			}
		}
		if l.tlsConfig != nil {
			c = tls.Server(c, l.tlsConfig)
		}
		sc, ok := l.e.track(c, l.transport)
		if !ok {
			_ = c.Close()
			return nil, net.ErrClosed
		}
		return sc, nil
	}
}

// injectListener hands connections the engine dialed to sipgo's Serve
// loop. Serve registers a connection in its pool and starts its reader
// before it calls Accept again, so the next Accept call is the signal that
// the previous connection is usable.
type injectListener struct {
	addr net.Addr
	ch   chan injected
	done chan struct{}
	once sync.Once

	mu      sync.Mutex
	pending chan struct{} // closed when the last connection handed out is registered
}

type injected struct {
	conn       net.Conn
	registered chan struct{}
}

func newInjectListener(addr net.Addr) *injectListener {
	return &injectListener{addr: addr, ch: make(chan injected), done: make(chan struct{})}
}

// Accept returns the next injected connection.
func (l *injectListener) Accept() (net.Conn, error) {
	l.release()
	select {
	case in := <-l.ch:
		l.mu.Lock()
		l.pending = in.registered
		l.mu.Unlock()
		return in.conn, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *injectListener) release() {
	l.mu.Lock()
	if l.pending != nil {
		close(l.pending)
		l.pending = nil
	}
	l.mu.Unlock()
}

// Close stops Accept. It is idempotent.
func (l *injectListener) Close() error {
	l.once.Do(func() { close(l.done) })
	l.release()
	return nil
}

// Addr returns the address of the real listener beside it.
func (l *injectListener) Addr() net.Addr { return l.addr }

// inject hands c to sipgo and waits until sipgo has registered it. handed
// reports whether sipgo took c (it then owns and reads it, even if err is
// not nil because ctx ended or the listener closed meanwhile).
func (l *injectListener) inject(ctx context.Context, c net.Conn) (handed bool, err error) {
	in := injected{conn: c, registered: make(chan struct{})}
	select {
	case l.ch <- in:
	case <-l.done:
		return false, ErrClosed
	case <-ctx.Done():
		return false, ctx.Err()
	}
	select {
	case <-in.registered:
		return true, nil
	case <-l.done:
		return true, ErrClosed
	case <-ctx.Done():
		return true, ctx.Err()
	}
}

// dialCall is one outgoing connection being set up; concurrent requests to
// the same destination wait for it instead of dialing again.
type dialCall struct {
	done chan struct{}
	err  error
}

// ensureConn makes sure sipgo's pool holds a connection of transport t to
// ip:port that the engine dialed (and so taps), dialing one if needed.
func (e *Engine) ensureConn(ctx context.Context, t Transport, l *listener, ip net.IP, port int, serverName string) error {
	raddr := net.JoinHostPort(ip.String(), strconv.Itoa(port))
	if c := e.ua.TransportLayer().Pool(t.network()).Get(raddr); c != nil {
		_, _ = c.TryClose() // Get took a reference
		return nil
	}
	key := string(t) + " " + raddr
	e.dialMu.Lock()
	if call, ok := e.dials[key]; ok {
		e.dialMu.Unlock()
		select {
		case <-call.done:
			return call.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	call := &dialCall{done: make(chan struct{})}
	e.dials[key] = call
	e.dialMu.Unlock()

	call.err = e.dial(ctx, t, l, raddr, serverName)

	e.dialMu.Lock()
	delete(e.dials, key)
	e.dialMu.Unlock()
	close(call.done)
	return call.err
}

// dial connects to raddr from l's address, runs the TLS handshake for
// "tls", and injects the connection into sipgo.
func (e *Engine) dial(ctx context.Context, t Transport, l *listener, raddr, serverName string) error {
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	d := net.Dialer{}
	if !l.addr.IP.IsUnspecified() {
		d.LocalAddr = &net.TCPAddr{IP: l.addr.IP}
	}
	raw, err := d.DialContext(ctx, "tcp", raddr)
	if err != nil {
		return err
	}
	var c net.Conn = raw
	if t == TransportTLS {
		cfg := e.clientTLS.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName = serverName
		}
		tc := tls.Client(raw, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = raw.Close()
			return err
		}
		c = tc
	}
	sc, ok := e.track(c, t)
	if !ok {
		_ = c.Close()
		return ErrClosed
	}
	handed, err := l.inject.inject(ctx, sc)
	if !handed {
		sc.abandon()
	}
	return err
}

// closedConn stands in sipgo's connection pools, during and after Close,
// for the connections being closed. sipgo's readers hand each message to
// the transaction layer in a goroutine of their own, and that goroutine
// looks the connection up in the pool by the message's source; if a reader
// has meanwhile exited and removed its entries, sipgo opens a new socket
// (UDP) or dials the peer (TCP) that nobody would ever close. With a
// closedConn in place such a late message finds a connection that refuses
// to write. sipgo removes a pool entry only if it still holds the
// connection it filed, so the stand-ins stay.
type closedConn struct{ local net.Addr }

var _ sip.Connection = (*closedConn)(nil)

func (c *closedConn) LocalAddr() net.Addr        { return c.local }
func (c *closedConn) WriteMsg(sip.Message) error { return ErrClosed }
func (c *closedConn) Ref(int) int                { return 1 }
func (c *closedConn) TryClose() (int, error)     { return 1, nil }
func (c *closedConn) Close() error               { return nil }
