package engine

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
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

	// raw reads the socket without waiting (see busyRead); nil when the
	// socket cannot. polling tells the reader to poll the socket rather
	// than wait for it: its last read found a datagram, or its last yield
	// found other goroutines waiting for the P. Reader goroutine only.
	raw     syscall.RawConn
	polling bool
	// polled counts the datagrams read by polling.
	polled atomic.Uint64
}

func newPacketConn(pc net.PacketConn, e *Engine) *packetConn {
	c := &packetConn{
		PacketConn: pc, e: e,
		ready:  make(chan struct{}),
		paused: make(chan struct{}),
		seen:   make(map[string]struct{}),
	}
	if sc, ok := pc.(syscall.Conn); ok && canPoll {
		c.raw, _ = sc.SyscallConn()
	}
	return c
}

func (c *packetConn) markReady() { c.once.Do(func() { close(c.ready) }) }

// ReadFrom reads a datagram, traces it and checks it: a datagram that
// fails the engine's checks (see inspect) is answered or dropped here and
// the next one read, so that sipgo only sees messages that pass. sipgo
// files the socket in its pool before it first reads, so the first call
// tells Start that requests can be sent from the socket. Once Close has
// begun, ReadFrom drops what it read and parks until Close releases it,
// then reports net.ErrClosed.
func (c *packetConn) ReadFrom(b []byte) (int, net.Addr, error) {
	c.markReady()
	for {
		n, addr, err := c.read(b)
		select {
		case <-c.e.done:
			c.pauseOnce.Do(func() { close(c.paused) })
			<-c.e.release
			return 0, nil, net.ErrClosed
		default:
		}
		if err != nil {
			return n, addr, err
		}
		if s := addr.String(); s != c.last {
			c.last = s
			c.seen[s] = struct{}{}
		}
		data := b[:n]
		if isKeepAlive(data) {
			return n, addr, nil
		}
		if c.e.tracing {
			c.e.trace(true, TransportUDP, addr, c.LocalAddr(), data)
		}
		msg, ok := c.e.screen(data, TransportUDP, addr, func(out []byte, dst net.Addr) {
			if _, err := c.WriteTo(out, dst); err != nil {
				c.e.log.Debug("answer not sent", "destination", dst.String(), "error", err)
			}
		})
		if ok {
			if len(msg) <= len(b) {
				n = copy(b, msg)
			}
			return n, addr, nil
		}
	}
}

// read reads the next datagram. While the host is busy it polls the
// socket between the other goroutines' turns instead of waiting for it:
// the Go scheduler looks for sockets that became readable only when a P
// has nothing else to run, or when its monitor thread gets round to it
// (every 10 ms or so), so under load a waiting reader took in datagrams
// 5 to 20 ms late, in batches of 60 to 100 at 6,000 INVITEs/s (issue 15):
// the 503s for overload went out that late, and the INVITEs admitted in
// one batch entered setup all at once. A reader that yields instead
// (runtime.Gosched) runs again after the goroutines before it in the
// queue, within a few dozen turns of the P; when the yield comes straight
// back, nothing else wanted the P, and the reader waits for the socket as
// before (an idle host costs nothing).
func (c *packetConn) read(b []byte) (int, net.Addr, error) {
	for c.polling && c.raw != nil {
		n, addr, ok, err := c.busyRead(b)
		if ok {
			c.polled.Add(1)
		}
		if ok || err != nil {
			return n, addr, err
		}
		select {
		case <-c.e.done:
			return 0, nil, net.ErrClosed
		default:
		}
		c.polling = yieldedToOthers()
	}
	n, addr, err := c.PacketConn.ReadFrom(b)
	c.polling = err == nil
	return n, addr, err
}

// pollYield is how long a yield of the P must take to tell that other
// goroutines were waiting for it: a yield on an idle P takes a
// microsecond or two.
const pollYield = 10 * time.Microsecond

// yieldedToOthers yields the P and reports whether other goroutines ran
// meanwhile.
func yieldedToOthers() bool {
	start := time.Now()
	runtime.Gosched()
	return time.Since(start) > pollYield
}

// udpSocketBuffer is the receive and send buffer asked for each SIP UDP
// socket: the kernel default (about 200 KB) overflows under a burst of
// calls while the reader is busy, and a dropped request that its sender
// does not retransmit (a BYE from a peer that gave up) leaves a session
// up for ever.
const udpSocketBuffer = 4 << 20

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
//
// The engine frames the stream itself (see framer) and hands sipgo only
// the messages that pass its checks, one message or keep-alive per Read;
// the others are answered or dropped. It also times the connection out:
// see Config.IdleTimeout and Config.TLSHandshakeTimeout. A connection is
// busy while a transaction sent or received on it is in progress (hold,
// release); a busy connection does not idle out.
type streamConn struct {
	net.Conn
	e         *Engine
	transport Transport
	peer      netip.Addr // the address counted in e.perAddr; invalid for a dialed connection
	key       string     // streamKey

	// The reader's state (sipgo's reader goroutine only).
	fr         framer
	out        [][]byte // checked frames not yet returned to sipgo
	cur        []byte   // what is left of the frame being returned
	rerr       error    // returned once out is drained
	handshaken bool

	mu           sync.Mutex // guards the deadline state
	busy         int        // transactions in progress on the connection
	lastMessage  time.Time  // the last whole message or keep-alive, or the start
	partialSince time.Time  // when the message being received started; zero if none
	closing      bool       // Close has set the deadline in the past

	paused    chan struct{} // closed when the reader parks during Close
	pauseOnce sync.Once
	finished  chan struct{} // closed when nobody reads the connection any more
	once      sync.Once
}

func newStreamConn(c net.Conn, e *Engine, t Transport, peer netip.Addr) *streamConn {
	return &streamConn{
		Conn: c, e: e, transport: t, peer: peer,
		key:         streamKey(t, c.RemoteAddr().String()),
		lastMessage: time.Now(),
		paused:      make(chan struct{}),
		finished:    make(chan struct{}),
	}
}

// writeTimeout bounds one write on a stream: a peer that stops reading
// cannot hold a sender for ever.
const writeTimeout = 10 * time.Second

// Read returns the next checked message (or keep-alive) to sipgo, or a
// part of it when b is shorter. The first error ends the connection for
// sipgo, whose reader then returns; the engine counts that as the end of
// the reader. A timed-out or unframeable connection ends with io.EOF
// (sipgo logs other errors as failures). Once Close has begun, Read drops
// what it read and parks until Close releases it.
func (c *streamConn) Read(b []byte) (int, error) {
	for {
		if len(c.cur) == 0 && len(c.out) > 0 {
			c.cur, c.out = c.out[0], c.out[1:]
		}
		if len(c.cur) > 0 {
			n := copy(b, c.cur)
			c.cur = c.cur[n:]
			return n, nil
		}
		if c.rerr != nil {
			c.finish()
			return 0, c.rerr
		}
		var n int
		var err error
		if !c.handshaken {
			err = c.handshake()
		} else {
			c.arm()
			n, err = c.Conn.Read(b)
		}
		select {
		case <-c.e.done:
			c.pauseOnce.Do(func() { close(c.paused) })
			<-c.e.release
			c.finish()
			return 0, net.ErrClosed
		default:
		}
		if n > 0 {
			c.consume(b[:n])
		}
		if err != nil && c.rerr == nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				c.e.stats.timedOut.Add(1)
				c.e.log.Debug("closing a connection that timed out", "transport", c.transport, "remote", c.RemoteAddr().String())
				err = io.EOF
			}
			c.rerr = err
		}
	}
}

// handshake runs the server side of an accepted TLS connection's
// handshake within the handshake timeout; other connections have none to
// run (the engine's own TLS connections were handshaken when dialed).
func (c *streamConn) handshake() error {
	c.handshaken = true
	tc, ok := c.Conn.(*tls.Conn)
	if !ok || !c.peer.IsValid() {
		return nil
	}
	c.mu.Lock()
	if !c.closing {
		_ = tc.SetDeadline(time.Now().Add(c.e.handshakeTimeout))
	}
	c.mu.Unlock()
	err := tc.Handshake()
	c.mu.Lock()
	if !c.closing {
		_ = tc.SetDeadline(time.Time{})
		c.lastMessage = time.Now()
	}
	c.mu.Unlock()
	if err == nil {
		return nil
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return err
	}
	c.e.log.Debug("TLS handshake failed", "remote", c.RemoteAddr().String(), "error", err)
	return io.EOF
}

// consume frames what was read, traces and checks every message, and
// queues for sipgo what passes.
func (c *streamConn) consume(p []byte) {
	c.fr.feed(p)
	for {
		f, ok := c.fr.next()
		if !ok {
			break
		}
		switch f.kind {
		case frameKeepAlive:
			c.touch()
			c.out = append(c.out, f.data)
		case frameMessage:
			c.touch()
			if c.e.tracing {
				c.e.trace(true, c.transport, c.RemoteAddr(), c.LocalAddr(), f.data)
			}
			if msg, ok := c.e.screen(f.data, c.transport, c.RemoteAddr(), c.reply); ok {
				c.out = append(c.out, msg)
			}
		case frameBroken:
			// The stream is read no further. It is not closed at once:
			// the requests that came before may still be waiting for
			// their answers, which sipgo sends on this connection; it
			// idles out once their transactions are over.
			if c.e.tracing && f.data != nil {
				c.e.trace(true, c.transport, c.RemoteAddr(), c.LocalAddr(), f.data)
			}
			c.e.screenBroken(f, c.transport, c.RemoteAddr(), c.reply)
		}
	}
	c.mu.Lock()
	switch {
	case !c.fr.pending():
		c.partialSince = time.Time{}
	case c.partialSince.IsZero():
		c.partialSince = time.Now()
	}
	c.mu.Unlock()
}

// reply writes the engine's answer to a refused request.
func (c *streamConn) reply(out []byte, _ net.Addr) {
	if _, err := c.Write(out); err != nil {
		c.e.log.Debug("answer not sent", "remote", c.RemoteAddr().String(), "error", err)
	}
}

// touch notes that a whole message or keep-alive arrived.
func (c *streamConn) touch() {
	c.mu.Lock()
	c.lastMessage = time.Now()
	c.partialSince = time.Time{}
	c.mu.Unlock()
}

// arm sets the read deadline for the next read.
func (c *streamConn) arm() {
	c.mu.Lock()
	c.armLocked()
	c.mu.Unlock()
}

// armLocked sets the read deadline: the idle timeout after the last
// message when the connection is not busy, the idle timeout after the
// start of a message that is arriving, else none. It changes the
// deadline of a read in progress too.
func (c *streamConn) armLocked() {
	if c.closing {
		return
	}
	var d time.Time
	switch {
	case c.busy == 0:
		d = c.lastMessage.Add(c.e.idleTimeout)
	case !c.partialSince.IsZero():
		d = c.partialSince.Add(c.e.idleTimeout)
	}
	_ = c.Conn.SetReadDeadline(d)
}

// hold marks the connection busy for one more transaction.
func (c *streamConn) hold() {
	c.mu.Lock()
	c.busy++
	c.armLocked()
	c.mu.Unlock()
}

// release ends a hold; the idle timeout starts again when the last
// transaction ends.
func (c *streamConn) release() {
	c.mu.Lock()
	if c.busy--; c.busy == 0 {
		c.lastMessage = time.Now()
	}
	c.armLocked()
	c.mu.Unlock()
}

// wake sets the connection's deadlines to t, for good: Close uses it to
// wake the reader.
func (c *streamConn) wake(t time.Time) {
	c.mu.Lock()
	c.closing = true
	_ = c.Conn.SetDeadline(t)
	c.mu.Unlock()
}

// Write stamps the User-Agent header, writes and traces.
func (c *streamConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	if !c.closing {
		_ = c.Conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	}
	c.mu.Unlock()
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
		var peer netip.Addr
		if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
			peer = a.AddrPort().Addr().Unmap()
		}
		if !peer.IsValid() {
			peer = netip.IPv6Unspecified() // counted all together
		}
		var conn net.Conn = c
		if l.tlsConfig != nil {
			conn = tls.Server(c, l.tlsConfig)
		}
		sc, err := l.e.track(conn, l.transport, peer)
		if errors.Is(err, errOverLimit) {
			l.e.stats.refused.Add(1)
			l.e.log.Debug("connection refused: too many from its address", "transport", l.transport, "remote", c.RemoteAddr().String(), "limit", l.e.maxPerAddress)
			_ = c.Close()
			continue
		}
		if err != nil {
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
			return &HandshakeError{Address: raddr, ServerName: cfg.ServerName, Err: err}
		}
		c = tc
	}
	sc, err := e.track(c, t, netip.Addr{})
	if err != nil {
		_ = c.Close()
		return err
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
