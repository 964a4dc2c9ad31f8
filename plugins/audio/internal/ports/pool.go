package ports

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Pool defaults.
const (
	// DefaultPoolSize is how many released pairs a Pool keeps bound at
	// most (fewer when the range is small: at most half its pairs).
	DefaultPoolSize = 64
	// DefaultPoolLinger is how long a released pair stays bound unused
	// before the Pool closes it.
	DefaultPoolLinger = 2 * time.Second
	// PoolQuiet is how long a pair in the pool must have received nothing
	// before it is handed out again: a peer that goes on sending to a
	// call that ended does not reach (nor get latched onto by) the next
	// call on its ports.
	PoolQuiet = 500 * time.Millisecond
)

// maxDatagram is the largest datagram a pooled socket's reader takes whole,
// as a session reading its own socket does.
const maxDatagram = 1500

// maxReadFailures is how many consecutive read errors (other than the
// socket closing) stop a pooled socket's reader; the socket is then closed
// when its pair is next released instead of being kept.
const maxReadFailures = 100

// errPushed is ReadFrom's error: a Pool's reader delivers an endpoint's
// datagrams (Receive).
var errPushed = errors.New("ports: pooled endpoint delivers its datagrams through Receive")

// Pool hands out RTP/RTCP pairs from an Allocator and keeps the pairs of
// ended streams bound for the next ones, each socket with a reader of its
// own that lives as long as the socket. Binding a pair, starting a reader
// per socket and closing both again cost a stream about a dozen system
// calls and two goroutines, a quarter of the audio plugin's CPU for a short
// call; a pair from the Pool costs neither.
//
// A pair goes back to the Pool when both its endpoints are closed, and is
// handed out again oldest first: a port is used again only after the pairs
// released before it, as the Allocator's rolling index walks the range. A
// pair unused for the Pool's linger (DefaultPoolLinger) is closed, so an
// idle plugin keeps no ports, and so is a pair released when the Pool
// already holds its size.
//
// While a pair is in the Pool its readers drop what arrives (stray packets
// of the call that ended), and a pair that received something is not
// handed out before it has been quiet for half a second (a peer that goes
// on sending after the call ended must not reach the next call, nor be
// latched onto by it); once handed out the readers read only after the
// stream's session asks to receive, so that what arrives before waits in
// the socket, as it does on a socket just bound.
type Pool struct {
	a      *Allocator
	size   int
	linger time.Duration
	clock  func() time.Time

	mu     sync.Mutex
	free   []*pooledPair // oldest first
	timer  *time.Timer   // armed while free is not empty
	closed bool

	dropped atomic.Uint64 // datagrams that arrived at pairs in the pool
}

// PoolOption configures a Pool.
type PoolOption func(*Pool)

// WithPoolSize sets how many released pairs the Pool keeps at most; 0
// keeps none (every pair is closed when released).
func WithPoolSize(n int) PoolOption { return func(p *Pool) { p.size = max(0, n) } }

// WithPoolLinger sets how long a released pair stays bound unused.
func WithPoolLinger(d time.Duration) PoolOption { return func(p *Pool) { p.linger = d } }

// NewPool returns a Pool of a's pairs.
func NewPool(a *Allocator, opts ...PoolOption) *Pool {
	p := &Pool{a: a, size: min(DefaultPoolSize, a.r.pairs()/2), linger: DefaultPoolLinger, clock: time.Now}
	for _, o := range opts {
		o(p)
	}
	return p
}

// pooledPair is a bound pair and its readers.
type pooledPair struct {
	pool     *Pool
	ip       string // the address it is bound on, as given to Get
	rtp      *sock
	rtcp     *sock
	open     int       // endpoints handed out and not closed; under pool.mu
	released time.Time // when it last went back to the pool
}

// Get returns the endpoints of a pair bound on ip: a released one, or one
// the Allocator binds. The caller closes both; the pair goes back to the
// Pool after the second.
func (p *Pool) Get(ctx context.Context, ip net.IP) (rtp, rtcp *Endpoint, err error) {
	if ip == nil {
		ip = net.IPv4zero
	}
	key := ip.String()
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, nil, ErrPoolClosed
	}
	var now time.Time
	for i, pp := range p.free {
		if pp.ip != key {
			continue
		}
		if now.IsZero() {
			now = p.clock()
		}
		if pp.noisy(now) {
			continue
		}
		p.free = append(p.free[:i], p.free[i+1:]...)
		rtp, rtcp = pp.lease()
		p.mu.Unlock()
		return rtp, rtcp, nil
	}
	p.mu.Unlock()

	pair, err := p.a.Allocate(ctx, ip)
	if errors.Is(err, ErrExhausted) && p.flush() {
		// The pool's idle pairs on other addresses may hold the ports
		// (a pair on 0.0.0.0 conflicts with every address).
		pair, err = p.a.Allocate(ctx, ip)
	}
	if err != nil {
		return nil, nil, err
	}
	pp := &pooledPair{pool: p, ip: key, rtp: p.newSock(pair.RTP), rtcp: p.newSock(pair.RTCP)}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		_ = pair.Close()
		return nil, nil, ErrPoolClosed
	}
	rtp, rtcp = pp.lease()
	p.mu.Unlock()
	go pp.rtp.read()
	go pp.rtcp.read()
	return rtp, rtcp, nil
}

// noisy tells whether a datagram arrived at the pair, in the pool, less
// than PoolQuiet before now.
func (pp *pooledPair) noisy(now time.Time) bool {
	last := max(pp.rtp.stray.Load(), pp.rtcp.stray.Load())
	return last != 0 && now.Sub(time.Unix(0, last)) < PoolQuiet
}

// lease hands the pair out; p.mu is held.
func (pp *pooledPair) lease() (rtp, rtcp *Endpoint) {
	pp.open = 2
	return pp.rtp.lease(pp), pp.rtcp.lease(pp)
}

// release takes back one endpoint of the pair; after the second the pair
// is kept or closed.
func (pp *pooledPair) release() {
	p := pp.pool
	p.mu.Lock()
	if pp.open--; pp.open > 0 {
		p.mu.Unlock()
		return
	}
	keep := !p.closed && len(p.free) < p.size && pp.rtp.healthy() && pp.rtcp.healthy()
	if keep {
		pp.released = p.clock()
		p.free = append(p.free, pp)
		if p.timer == nil {
			p.timer = time.AfterFunc(p.linger, p.expire)
		}
	}
	p.mu.Unlock()
	if !keep {
		pp.close()
	}
}

// close closes both sockets; their readers end.
func (pp *pooledPair) close() {
	pp.rtp.close()
	pp.rtcp.close()
}

// expire closes the pairs unused for the linger and arms the timer for
// the next.
func (p *Pool) expire() {
	p.mu.Lock()
	now := p.clock()
	n := 0
	for n < len(p.free) && now.Sub(p.free[n].released) >= p.linger {
		n++
	}
	old := append([]*pooledPair(nil), p.free[:n]...)
	p.free = append(p.free[:0], p.free[n:]...)
	p.timer = nil
	if len(p.free) > 0 && !p.closed {
		p.timer = time.AfterFunc(p.linger-now.Sub(p.free[0].released), p.expire)
	}
	p.mu.Unlock()
	for _, pp := range old {
		pp.close()
	}
}

// flush closes every idle pair and reports whether there was one.
func (p *Pool) flush() bool {
	p.mu.Lock()
	old := p.free
	p.free = nil
	p.mu.Unlock()
	for _, pp := range old {
		pp.close()
	}
	return len(old) > 0
}

// Dropped returns how many datagrams arrived at pairs while they were in
// the Pool (late packets of ended calls), and were dropped.
func (p *Pool) Dropped() uint64 { return p.dropped.Load() }

// Idle returns how many released pairs the Pool holds.
func (p *Pool) Idle() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.free)
}

// Close closes the idle pairs and waits for their readers; pairs still
// handed out are closed when released. Get fails afterwards.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.closed = true
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	old := p.free
	p.free = nil
	p.mu.Unlock()
	for _, pp := range old {
		pp.close()
		<-pp.rtp.done
		<-pp.rtcp.done
	}
	return nil
}

// sock is a pooled socket and its reader.
type sock struct {
	c    *net.UDPConn
	port int
	done chan struct{} // closed when the reader has ended
	pool *Pool
	// stray is when a datagram last arrived while the socket was in the
	// pool (Unix nanoseconds on the pool's clock; 0: never).
	stray atomic.Int64

	// delivering is held by the reader while it delivers a datagram, and
	// by an endpoint's Close: after Close nothing is delivered to it.
	delivering sync.Mutex

	mu        sync.Mutex // guards what follows
	cond      sync.Cond  // signalled when owner, receiving or closed change
	owner     *Endpoint  // nil while in the pool
	receiving bool       // the owner's session receives (Receive)
	pending   []byte     // a datagram read before the owner received
	pendFrom  net.Addr
	closed    bool
	failed    bool // the reader gave up: not to be kept
}

func (p *Pool) newSock(c *net.UDPConn) *sock {
	s := &sock{c: c, port: c.LocalAddr().(*net.UDPAddr).Port, done: make(chan struct{}), pool: p}
	s.cond.L = &s.mu
	return s
}

// lease makes a new endpoint the socket's owner; the pool's lock is held.
func (s *sock) lease(pp *pooledPair) *Endpoint {
	e := &Endpoint{s: s, pair: pp}
	s.mu.Lock()
	s.owner, s.receiving, s.pending, s.pendFrom = e, false, nil, nil
	s.mu.Unlock()
	return e
}

func (s *sock) healthy() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.closed && !s.failed
}

func (s *sock) close() {
	s.mu.Lock()
	s.closed = true
	s.cond.Broadcast()
	s.mu.Unlock()
	_ = s.c.Close()
}

// read is the socket's reader, for as long as the socket is open.
func (s *sock) read() {
	defer close(s.done)
	buf := make([]byte, maxDatagram)
	failures := 0
	for {
		s.mu.Lock()
		// Handed out but not yet received from: leave datagrams in the
		// socket. The one read meanwhile is delivered first.
		for !s.closed && s.owner != nil && !s.receiving {
			s.cond.Wait()
		}
		closed, pending := s.closed, s.pending != nil
		s.mu.Unlock()
		if closed {
			return
		}
		if pending {
			s.handle(nil, nil)
			continue
		}

		n, from, err := s.c.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Transient errors (an ICMP error reported to the socket)
			// are skipped; a socket that only fails is given up.
			if failures++; failures > maxReadFailures {
				s.mu.Lock()
				s.failed = true
				s.mu.Unlock()
				return
			}
			continue
		}
		failures = 0
		s.handle(buf[:n], from)
	}
}

// handle gives a datagram (p, or with p nil the one kept) to the socket's
// owner if it receives, keeps it for an owner that does not yet, or drops
// it while the socket is in the pool. It holds delivering throughout, so
// an owner's Close either comes first or waits for the delivery.
func (s *sock) handle(p []byte, from net.Addr) {
	s.delivering.Lock()
	defer s.delivering.Unlock()
	s.mu.Lock()
	e := s.owner
	if p == nil {
		p, from = s.pending, s.pendFrom
		s.pending, s.pendFrom = nil, nil
	}
	var f func(p []byte, from net.Addr, trial bool) bool
	switch {
	case e != nil && s.receiving:
		f = e.deliver
	case e != nil && p != nil:
		s.pending, s.pendFrom = append([]byte(nil), p...), from
	}
	s.mu.Unlock()
	switch {
	case p == nil: // the kept one went with its owner
	case e == nil: // in the pool: a stray datagram of the ended call
		s.stray.Store(s.pool.clock().UnixNano())
		s.pool.dropped.Add(1)
	case f != nil:
		f(p, from, false)
	}
}

// Endpoint is one stream's use of a pooled socket: a datagram transport
// whose datagrams the socket's reader pushes to the function given to
// Receive (rtpsession's PushTransport). It is closed once; the socket
// stays open, in the Pool.
type Endpoint struct {
	s    *sock
	pair *pooledPair

	deliver func(p []byte, from net.Addr, trial bool) bool // under s.mu
	closed  atomic.Bool                                    // written under s.mu
}

// LocalPort returns the socket's port.
func (e *Endpoint) LocalPort() int { return e.s.port }

// LocalAddr returns the socket's address.
func (e *Endpoint) LocalAddr() net.Addr { return e.s.c.LocalAddr() }

// ReadFrom fails: the socket's reader delivers datagrams (Receive).
func (e *Endpoint) ReadFrom([]byte) (int, net.Addr, error) { return 0, nil, errPushed }

// WriteTo sends p to addr, unless e is closed.
func (e *Endpoint) WriteTo(p []byte, addr net.Addr) (int, error) {
	if e.closed.Load() {
		return 0, net.ErrClosed
	}
	return e.s.c.WriteTo(p, addr)
}

// Receive sets the function the socket's datagrams are delivered to, from
// the socket's reader, one at a time; the reader starts reading now.
// trial is always false (the socket is the stream's alone) and
// authenticated is not needed.
func (e *Endpoint) Receive(deliver func(p []byte, from net.Addr, trial bool) bool, authenticated bool) {
	s := e.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.closed.Load() || s.owner != e {
		return
	}
	e.deliver, s.receiving = deliver, true
	s.cond.Broadcast()
}

// Close gives the socket back: when it returns nothing is being delivered
// to e and nothing will be. (Not from a delivery, which it would wait
// for.) Later calls do nothing.
func (e *Endpoint) Close() error {
	s := e.s
	s.delivering.Lock()
	s.mu.Lock()
	if e.closed.Load() {
		s.mu.Unlock()
		s.delivering.Unlock()
		return nil
	}
	e.closed.Store(true)
	e.deliver = nil
	if s.owner == e {
		s.owner, s.receiving, s.pending, s.pendFrom = nil, false, nil, nil
		s.cond.Broadcast()
	}
	s.mu.Unlock()
	s.delivering.Unlock()
	e.pair.release()
	return nil
}
