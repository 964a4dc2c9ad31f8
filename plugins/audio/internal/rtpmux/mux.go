package rtpmux

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
)

// ErrClosed is returned for a closed Mux or Endpoint.
var ErrClosed = errors.New("rtpmux: closed")

// errPushed is what ReadFrom returns: an endpoint is never read.
var errPushed = errors.New("rtpmux: an endpoint delivers its datagrams itself (rtpsession.PushTransport)")

// Pair is an RTP socket and its RTCP companion (the next port), bound by
// the caller, for example from package ports.
type Pair struct {
	RTP, RTCP *net.UDPConn
}

// Stats are a Mux's counters.
type Stats struct {
	// Received and Sent count datagrams over all sockets.
	Received, Sent uint64
	// ReadCalls and WriteCalls count the system calls that moved them.
	ReadCalls, WriteCalls uint64
	// Unrouted counts datagrams that no endpoint took (unknown source and
	// SSRC, or refused by every candidate session); Invalid those that
	// were not RTP or RTCP at all.
	Unrouted, Invalid uint64
	// SendErrors counts datagrams the kernel refused to send.
	SendErrors uint64
	// Endpoints is how many endpoints are open.
	Endpoints int
}

// Mux serves RTP sessions from a few shared socket pairs. Create it with
// New; it is safe for concurrent use.
type Mux struct {
	logger *slog.Logger
	pairs  [][2]*sock
	next   atomic.Uint32

	mu        sync.Mutex
	endpoints int
	closed    bool
	wg        sync.WaitGroup
}

// Option configures a Mux.
type Option func(*Mux)

// WithLogger sets the logger of socket errors (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(m *Mux) { m.logger = l } }

// New starts serving the pairs, which the Mux owns from now on: their
// reader and writer goroutines run until Close.
func New(pairs []Pair, opts ...Option) (*Mux, error) {
	if len(pairs) == 0 {
		return nil, errors.New("rtpmux: no socket pair")
	}
	m := &Mux{logger: slog.Default()}
	for _, o := range opts {
		o(m)
	}
	fail := func(err error) (*Mux, error) {
		for _, p := range pairs {
			closeConn(p.RTP)
			closeConn(p.RTCP)
		}
		return nil, fmt.Errorf("rtpmux: %w", err)
	}
	for _, p := range pairs {
		if p.RTP == nil || p.RTCP == nil {
			return fail(errors.New("a pair lacks a socket"))
		}
		rtp, err := newSock(p.RTP, m.logger)
		if err != nil {
			return fail(err)
		}
		rtcp, err := newSock(p.RTCP, m.logger)
		if err != nil {
			return fail(err)
		}
		m.pairs = append(m.pairs, [2]*sock{rtp, rtcp})
	}
	for _, p := range m.pairs {
		for _, s := range p {
			m.wg.Add(2)
			go func() { defer m.wg.Done(); s.readLoop() }()
			go func() { defer m.wg.Done(); s.out.run() }()
		}
	}
	return m, nil
}

func closeConn(c *net.UDPConn) {
	if c != nil {
		_ = c.Close()
	}
}

// Endpoints returns an RTP and an RTCP endpoint on the next socket pair,
// for one session. The session owns them: closing both is its job.
func (m *Mux) Endpoints() (rtp, rtcp *Endpoint, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, nil, ErrClosed
	}
	p := m.pairs[int(m.next.Add(1)-1)%len(m.pairs)]
	m.endpoints += 2
	return p[0].endpoint(m), p[1].endpoint(m), nil
}

// released is called by an endpoint's first Close.
func (m *Mux) released() {
	m.mu.Lock()
	m.endpoints--
	m.mu.Unlock()
}

// Len returns how many endpoints are open.
func (m *Mux) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.endpoints
}

// Stats returns the counters.
func (m *Mux) Stats() Stats {
	var st Stats
	for _, p := range m.pairs {
		for _, s := range p {
			st.Received += s.received.Load()
			st.ReadCalls += s.readCalls.Load()
			st.Unrouted += s.unrouted.Load()
			st.Invalid += s.invalid.Load()
			st.Sent += s.out.sent.Load()
			st.WriteCalls += s.out.calls.Load()
			st.SendErrors += s.out.errors.Load()
		}
	}
	st.Endpoints = m.Len()
	return st
}

// Close flushes what is queued for sending, closes the sockets and waits
// for the Mux's goroutines. Endpoints still open stop receiving and fail
// to send.
func (m *Mux) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	m.mu.Unlock()
	var err error
	for _, p := range m.pairs {
		for _, s := range p {
			s.out.stop() // flushes, then returns: the socket is still open
		}
	}
	for _, p := range m.pairs {
		for _, s := range p {
			s.closed.Store(true)
			err = errors.Join(err, s.conn.Close())
		}
	}
	m.wg.Wait()
	return err
}

// LocalPorts returns the RTP and RTCP port of every pair, in order.
func (m *Mux) LocalPorts() [][2]int {
	out := make([][2]int, len(m.pairs))
	for i, p := range m.pairs {
		out[i] = [2]int{int(p[0].local.Port()), int(p[1].local.Port())}
	}
	return out
}

// Endpoint is one session's share of a socket: an rtpsession Transport
// (PushTransport and PeerTransport) whose datagrams the Mux routes to it.
type Endpoint struct {
	s   *sock
	mux *Mux

	// Guarded by s.mu (written under its write lock).
	deliver  func(p []byte, from net.Addr, trial bool) bool
	peer     netip.AddrPort // where the session sends; routing key
	peerAddr net.Addr       // the same, as given to the session
	ssrc     uint32         // the peer's SSRC, once learned or told
	hasSSRC  bool
	closed   bool
	// authenticated: the session only accepts datagrams that
	// authenticate (SRTP).
	authenticated bool

	// The last destination of WriteTo, as given and converted.
	wmu       sync.Mutex
	lastDst   *net.UDPAddr
	lastDstAP netip.AddrPort
}

// LocalPort returns the socket's port, the one to advertise.
func (e *Endpoint) LocalPort() int { return int(e.s.local.Port()) }

// LocalAddr returns the socket's address.
func (e *Endpoint) LocalAddr() net.Addr { return e.s.conn.LocalAddr() }

// ReadFrom fails: the Mux delivers an endpoint's datagrams (Receive).
func (e *Endpoint) ReadFrom([]byte) (int, net.Addr, error) { return 0, nil, errPushed }

// WriteTo queues p for the socket's writer; it is copied. An address that
// is not UDP is an error.
func (e *Endpoint) WriteTo(p []byte, addr net.Addr) (int, error) {
	u, ok := addr.(*net.UDPAddr)
	if !ok || u == nil {
		return 0, fmt.Errorf("rtpmux: cannot send to %v: not a UDP address", addr)
	}
	if e.s.closed.Load() {
		return 0, ErrClosed
	}
	// A session sends to one address for long: convert it once.
	e.wmu.Lock()
	if u != e.lastDst {
		e.lastDst, e.lastDstAP = u, u.AddrPort()
	}
	dst := e.lastDstAP
	e.wmu.Unlock()
	if err := e.s.out.write(p, dst); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Receive sets the function datagrams are delivered to. An authenticated
// endpoint that has learned no SSRC yet is tried with datagrams from
// unknown sources (a peer behind NAT whose first packets do not come from
// its SDP address); a plain one only when it is the only such endpoint.
func (e *Endpoint) Receive(deliver func(p []byte, from net.Addr, trial bool) bool, authenticated bool) {
	e.s.mu.Lock()
	defer e.s.mu.Unlock()
	if e.closed {
		return
	}
	e.deliver, e.authenticated = deliver, authenticated
	if !e.hasSSRC {
		e.s.fresh[e] = struct{}{}
	}
}

// SetPeer routes the datagrams from addr (where the session sends) to e.
func (e *Endpoint) SetPeer(addr net.Addr) {
	var ap netip.AddrPort
	if u, ok := addr.(*net.UDPAddr); ok && u != nil {
		ap = normal(u.AddrPort())
	}
	s := e.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.closed || ap == e.peer {
		e.peerAddr = addrOrNil(addr, ap)
		return
	}
	s.unlinkAddrLocked(e)
	e.peer, e.peerAddr = ap, addrOrNil(addr, ap)
	if ap.IsValid() {
		s.byAddr[ap] = append(s.byAddr[ap], e)
	}
}

func addrOrNil(addr net.Addr, ap netip.AddrPort) net.Addr {
	if !ap.IsValid() {
		return nil
	}
	return addr
}

// SetRemoteSSRC tells e the peer's SSRC in advance (SDP a=ssrc), so that
// the first packets of calls with one peer address go to the right one.
func (e *Endpoint) SetRemoteSSRC(ssrc uint32) {
	e.s.mu.Lock()
	defer e.s.mu.Unlock()
	if !e.closed {
		e.s.bindLocked(e, ssrc)
	}
}

// Close removes e from routing; when it returns no datagram is being
// delivered to e and none will be. The socket stays: the Mux's.
func (e *Endpoint) Close() error {
	s := e.s
	// Not while a batch is being delivered: it may hold e's function.
	// (Closing from a delivery would wait for itself: sessions' callbacks
	// must not close, rtpsession's rule.)
	s.delivering.Lock()
	defer s.delivering.Unlock()
	s.mu.Lock()
	if e.closed {
		s.mu.Unlock()
		return nil
	}
	e.closed = true
	s.unlinkAddrLocked(e)
	s.unlinkSSRCLocked(e)
	delete(s.fresh, e)
	e.deliver = nil
	s.mu.Unlock()
	e.mux.released()
	return nil
}

// unlinkAddrLocked takes e out of the table by peer. s.mu is held.
func (s *sock) unlinkAddrLocked(e *Endpoint) {
	if e.peer.IsValid() {
		unlink(s.byAddr, e.peer, e)
	}
}

// unlinkSSRCLocked takes e out of the table by SSRC. s.mu is held.
func (s *sock) unlinkSSRCLocked(e *Endpoint) {
	if e.hasSSRC {
		unlink(s.bySSRC, e.ssrc, e)
	}
}

// unlink removes e from table[k], and the key when it was the last.
func unlink[K comparable](table map[K][]*Endpoint, k K, e *Endpoint) {
	if list := remove(table[k], e); len(list) > 0 {
		table[k] = list
	} else {
		delete(table, k)
	}
}

func remove(list []*Endpoint, e *Endpoint) []*Endpoint {
	for i, x := range list {
		if x == e {
			list[i] = list[len(list)-1]
			list[len(list)-1] = nil
			return list[:len(list)-1]
		}
	}
	return list
}

// normal unmaps IPv4-mapped IPv6 addresses: one key per source.
func normal(ap netip.AddrPort) netip.AddrPort {
	if ap.Addr().Is4In6() {
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return ap
}
