package engine

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/sipstreams/sipstreams/framework/notify"
)

// Addr is a bound listening address.
type Addr struct {
	Transport Transport
	IP        net.IP
	Port      int
}

// String returns "transport:ip:port", for example "udp:127.0.0.1:5060".
func (a Addr) String() string {
	return string(a.Transport) + ":" + net.JoinHostPort(a.IP.String(), strconv.Itoa(a.Port))
}

type state int

const (
	stateNew state = iota
	stateRunning
	stateClosed
)

// listener is one bound listening socket.
type listener struct {
	conf   Listen
	addr   Addr
	pc     net.PacketConn  // UDP
	tap    *packetConn     // UDP, as sipgo sees it; set by Start
	served <-chan struct{} // UDP: closed when sipgo's Serve returns
	ln     net.Listener    // TCP, TLS
	inject *injectListener // TCP, TLS
}

// close closes the sockets (a failed Start).
func (l *listener) close() {
	l.stopAccepting()
	if l.pc != nil {
		_ = l.pc.Close()
	}
}

// stopAccepting closes the TCP listener and its injection listener.
func (l *listener) stopAccepting() {
	if l.ln != nil {
		_ = l.ln.Close()
	}
	if l.inject != nil {
		_ = l.inject.Close()
	}
}

// Engine is the SIP user agent of the host: sipgo's transport and
// transaction layers on the engine's listening sockets. Create it with
// [New], register request handlers with [Engine.OnRequest], then
// [Engine.Start] it; [Engine.Close] stops it. An Engine is safe for
// concurrent use.
type Engine struct {
	cfg       Config
	log       *slog.Logger
	center    *notify.Center
	tracing   bool
	resolver  *net.Resolver
	clientTLS *tls.Config
	tagKey    [32]byte
	tagMACs   sync.Pool // of hash.Hash: HMAC-SHA256 keyed with tagKey (tags.go)

	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	client *sipgo.Client
	parser *sip.Parser // the engine's own, for the checks of inbound messages

	idleTimeout      time.Duration
	handshakeTimeout time.Duration
	maxPerAddress    int
	stats            counters

	ready     chan struct{} // closed when requests may reach the handlers
	readyOnce sync.Once
	readyWait time.Duration // how long a request waits for Ready before 503

	admission atomic.Pointer[func(callID string) bool] // see SetAdmission
	admitted  atomic.Pointer[func(callID string)]      // see SetAdmitted
	accepted  *accepted                                // INVITEs answered 2xx, for 64·T1
	hmu       sync.RWMutex
	handlers  map[sip.RequestMethod]sipgo.RequestHandler // guarded by hmu

	mu        sync.Mutex
	state     state                    // guarded by mu
	listeners []*listener              // guarded by mu; fixed once running
	conns     map[*streamConn]struct{} // guarded by mu
	byRemote  map[string]*streamConn   // guarded by mu; by streamKey
	perAddr   map[netip.Addr]int       // guarded by mu; accepted connections per peer address
	done      chan struct{}            // closed when Close starts
	release   chan struct{}            // closed when Close lets the parked readers go

	serving  sync.WaitGroup // the Serve goroutines
	readers  sync.WaitGroup // one per live *streamConn
	inflight sync.WaitGroup // request handlers running

	dialMu sync.Mutex
	dials  map[string]*dialCall // guarded by dialMu
}

// New returns an engine for cfg, not yet listening. It fails only if cfg
// does not validate.
func New(cfg Config) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Listen = slices.Clone(cfg.listen())
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "engine")
	e := &Engine{
		cfg:      cfg,
		log:      log,
		center:   cfg.Center,
		tracing:  cfg.Trace && cfg.Center != nil,
		resolver: cfg.Resolver,
		handlers: make(map[sip.RequestMethod]sipgo.RequestHandler),
		conns:    make(map[*streamConn]struct{}),
		byRemote: make(map[string]*streamConn),
		perAddr:  make(map[netip.Addr]int),
		done:     make(chan struct{}),
		release:  make(chan struct{}),
		dials:    make(map[string]*dialCall),
		parser:   sip.NewParser(),
		ready:    make(chan struct{}),
		accepted: newAccepted(64*sip.T1, time.Now),

		readyWait: DefaultReadyWait,

		idleTimeout:      cmp.Or(cfg.IdleTimeout, DefaultIdleTimeout),
		handshakeTimeout: cmp.Or(cfg.TLSHandshakeTimeout, DefaultTLSHandshakeTimeout),
		maxPerAddress:    cmp.Or(cfg.MaxConnectionsPerAddress, DefaultMaxConnectionsPerAddress),
	}
	e.cfg.Supported = slices.Clone(cfg.Supported)
	if e.resolver == nil {
		e.resolver = net.DefaultResolver
	}
	if cfg.ClientTLSConfig != nil {
		e.clientTLS = cfg.ClientTLSConfig.Clone()
	} else {
		e.clientTLS = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if _, err := rand.Read(e.tagKey[:]); err != nil {
		return nil, err
	}

	// The UA's name and host only fill in a From header a request lacks:
	// RFC 3261 §8.1.1.3's anonymous From, never the User-Agent string.
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent("anonymous"),
		sipgo.WithUserAgentHostname("anonymous.invalid"),
		sipgo.WithUserAgentDNSResolver(e.resolver),
		sipgo.WithUserAgenTLSConfig(e.clientTLS),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(log)),
		sipgo.WithUserAgentTransactionLayerOptions(
			sip.WithTransactionLayerLogger(log),
			sip.WithTransactionLayerUnhandledResponseHandler(func(r *sip.Response) {
				log.Debug("response matches no transaction", "response", r.Short())
			}),
		),
	)
	if err != nil {
		return nil, err
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(log))
	if err != nil {
		_ = ua.Close()
		return nil, err
	}
	// Every request goes through dispatch, which looks handlers up under
	// the engine's lock (sipgo's own handler map is not safe to change
	// while serving).
	srv.OnNoRoute(e.dispatch)
	client, err := sipgo.NewClient(ua, sipgo.WithClientLogger(log), sipgo.WithClientNAT())
	if err != nil {
		_ = ua.Close()
		return nil, err
	}
	client.TxRequester = requester{e}
	e.ua, e.srv, e.client = ua, srv, client
	return e, nil
}

// Start binds every listener, then serves them in goroutines owned by the
// engine, so that the ports of ":0" listeners are known when it returns.
// ctx bounds the binding only. If a listener cannot be bound Start returns
// a *ListenError naming it and leaves nothing bound; if TLS listeners have
// no usable certificate it returns a *TLSError (matching [ErrTLS]) before
// binding anything. After a failure Start may be called again. Start on a
// running engine returns [ErrStarted], on a closed one [ErrClosed].
func (e *Engine) Start(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch e.state {
	case stateRunning:
		return ErrStarted
	case stateClosed:
		return ErrClosed
	}
	var serverTLS *tls.Config
	if slices.ContainsFunc(e.cfg.Listen, func(l Listen) bool { return l.Transport == TransportTLS }) {
		var err error
		if serverTLS, err = e.serverTLSConfig(); err != nil {
			return err
		}
	}
	bound := make([]*listener, 0, len(e.cfg.Listen))
	for _, lc := range e.cfg.Listen {
		l, err := bind(ctx, lc)
		if err != nil {
			for _, b := range bound {
				b.close()
			}
			return &ListenError{Listen: lc, Err: err}
		}
		bound = append(bound, l)
	}
	e.listeners = bound
	e.state = stateRunning
	if !e.cfg.WaitReady {
		e.Ready()
	}
	var ready []chan struct{}
	for _, l := range bound {
		switch l.conf.Transport {
		case TransportUDP:
			pc := newPacketConn(l.pc, e)
			l.tap = pc
			ready = append(ready, pc.ready)
			l.served = e.serve(l, func() error {
				defer pc.markReady() // also if sipgo fails before reading
				return e.srv.ServeUDP(pc)
			})
		case TransportTCP:
			tl := &tapListener{Listener: l.ln, e: e, transport: TransportTCP}
			e.serve(l, func() error { return e.srv.ServeTCP(tl) })
			e.serve(l, func() error { return e.srv.ServeTCP(l.inject) })
		case TransportTLS:
			tl := &tapListener{Listener: l.ln, e: e, transport: TransportTLS, tlsConfig: serverTLS}
			e.serve(l, func() error { return e.srv.ServeTLS(tl) })
			e.serve(l, func() error { return e.srv.ServeTLS(l.inject) })
		}
	}
	// Requests can be sent from a UDP socket only once sipgo has filed it
	// in its pool, which its Serve goroutine does first thing.
	for _, c := range ready {
		<-c
	}
	e.log.Info("started", "addrs", e.addrsLocked())
	return nil
}

// Ready lets the requests reach the handlers (see Config.WaitReady): those
// held since Start go on, in no particular order. It is idempotent; an
// engine without WaitReady is ready from Start.
func (e *Engine) Ready() {
	e.readyOnce.Do(func() { close(e.ready) })
}

// serve runs one of sipgo's Serve loops in a goroutine owned by the engine.
// The returned channel is closed when f has returned.
func (e *Engine) serve(l *listener, f func() error) <-chan struct{} {
	e.serving.Add(1)
	done := make(chan struct{})
	go func() {
		defer e.serving.Done()
		defer close(done)
		err := f()
		select {
		case <-e.done:
		default:
			if err != nil && !errors.Is(err, net.ErrClosed) {
				e.log.Error("listener stopped", "listener", l.addr.String(), "error", err)
			}
		}
	}()
	return done
}

// bind opens the socket of one listener.
func bind(ctx context.Context, lc Listen) (*listener, error) {
	ip, port, err := parseListenAddress(lc.Address)
	if err != nil {
		return nil, err
	}
	family := "4"
	if ip.To4() == nil {
		family = "6"
	}
	addr := net.JoinHostPort(ip.String(), strconv.Itoa(port))
	var lcfg net.ListenConfig
	l := &listener{conf: lc}
	if lc.Transport == TransportUDP {
		pc, err := lcfg.ListenPacket(ctx, "udp"+family, addr)
		if err != nil {
			return nil, err
		}
		if u, ok := pc.(*net.UDPConn); ok {
			// Room for a burst: sipgo reads one datagram at a time, and a
			// datagram that finds the buffer full is dropped silently
			// (the kernel caps the size at net.core.rmem_max/wmem_max).
			_ = u.SetReadBuffer(udpSocketBuffer)
			_ = u.SetWriteBuffer(udpSocketBuffer)
		}
		a := pc.LocalAddr().(*net.UDPAddr)
		l.pc = pc
		l.addr = Addr{Transport: lc.Transport, IP: a.IP, Port: a.Port}
		return l, nil
	}
	ln, err := lcfg.Listen(ctx, "tcp"+family, addr)
	if err != nil {
		return nil, err
	}
	a := ln.Addr().(*net.TCPAddr)
	l.ln = ln
	l.inject = newInjectListener(ln.Addr())
	l.addr = Addr{Transport: lc.Transport, IP: a.IP, Port: a.Port}
	return l, nil
}

// serverTLSConfig returns the configuration of the "tls" listeners.
func (e *Engine) serverTLSConfig() (*tls.Config, error) {
	if c := e.cfg.TLSConfig; c != nil {
		if len(c.Certificates) == 0 && c.GetCertificate == nil && c.GetConfigForClient == nil {
			return nil, &TLSError{Reason: "TLSConfig has no certificate"}
		}
		return c.Clone(), nil
	}
	certFile, keyFile := e.cfg.TLSCertFile, e.cfg.TLSKeyFile
	if certFile == "" {
		return nil, &TLSError{KeyFile: keyFile, Reason: "no certificate configured"}
	}
	if keyFile == "" {
		keyFile = certFile
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, &TLSError{CertFile: certFile, KeyFile: keyFile, Reason: "cannot load certificate", Err: err}
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// Close stops the listeners, terminates every transaction, closes every
// connection and waits for the engine's goroutines, sipgo's connection
// readers and running request handlers. Handlers must therefore return
// once their transaction is done (tx.Done()). Close is idempotent and
// returns nil; the error is there for io.Closer.
//
// sipgo cannot be told to stop, so Close quiesces it: it stops accepting,
// parks every reader (the socket wrappers hold them once e.done is
// closed, woken by a past read deadline), puts stand-ins for the
// connections in sipgo's pools so that messages still being processed
// cannot make sipgo open new sockets (see closedConn), terminates the
// transactions (each gives back its reference to its connection), then
// releases the readers, which close their connections and exit. The
// stand-ins stay in sipgo's pools for good, for the messages sipgo may
// still be processing when Close returns. In another order sipgo leaks
// sockets or its reference counts go negative.
func (e *Engine) Close() error {
	e.mu.Lock()
	prev := e.state
	if prev == stateClosed {
		e.mu.Unlock()
		return nil
	}
	e.state = stateClosed
	close(e.done)
	listeners := e.listeners
	conns := make([]*streamConn, 0, len(e.conns))
	for c := range e.conns {
		conns = append(conns, c)
	}
	e.mu.Unlock()

	for _, l := range listeners {
		l.stopAccepting()
	}
	now := time.Now()
	for _, l := range listeners {
		if l.pc != nil {
			_ = l.pc.SetReadDeadline(now)
		}
	}
	for _, c := range conns {
		c.wake(now)
	}
	tp := e.ua.TransportLayer()
	for _, l := range listeners {
		if l.tap == nil {
			continue
		}
		select {
		case <-l.tap.paused:
		case <-l.served:
		}
		stand := &closedConn{local: l.pc.LocalAddr()}
		pool := tp.Pool(TransportUDP.network())
		for raddr := range l.tap.seen {
			pool.Add(raddr, stand)
		}
		// Requests are sent from the listening socket, looked up under its
		// own address (Request.Laddr); once its reader has gone, sipgo
		// would bind that port anew for a late request.
		pool.Add(l.pc.LocalAddr().String(), stand)
	}
	for _, c := range conns {
		select {
		case <-c.paused:
		case <-c.finished:
		}
		stand := &closedConn{local: c.LocalAddr()}
		pool := tp.Pool(c.transport.network())
		pool.Add(c.RemoteAddr().String(), stand)
		pool.Add(c.LocalAddr().String(), stand)
	}
	e.ua.TransactionLayer().Close()
	close(e.release)
	for _, l := range listeners {
		if l.pc != nil {
			_ = l.pc.Close()
		}
	}
	for _, c := range conns {
		_ = c.Close()
	}
	e.readers.Wait()
	e.serving.Wait()
	// sipgo's pools are not cleared (TransportLayer.Close would drop the
	// stand-ins): every socket in them is the engine's and closed above.
	e.inflight.Wait()
	e.accepted.stop()
	if prev == stateRunning {
		e.log.Info("closed")
	}
	return nil
}

// errOverLimit refuses a connection from an address that has
// Config.MaxConnectionsPerAddress already.
var errOverLimit = errors.New("engine: too many connections from one address")

// track registers a new stream connection; it fails with ErrClosed once
// Close started, and with errOverLimit for an accepted connection
// (peer valid) whose address has its share already.
func (e *Engine) track(c net.Conn, t Transport, peer netip.Addr) (*streamConn, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.state != stateRunning {
		return nil, ErrClosed
	}
	if peer.IsValid() {
		if e.perAddr[peer] >= e.maxPerAddress {
			return nil, errOverLimit
		}
		e.perAddr[peer]++
	}
	sc := newStreamConn(c, e, t, peer)
	e.conns[sc] = struct{}{}
	e.byRemote[sc.key] = sc
	e.readers.Add(1)
	return sc, nil
}

func (e *Engine) untrack(c *streamConn) {
	e.mu.Lock()
	delete(e.conns, c)
	if e.byRemote[c.key] == c {
		delete(e.byRemote, c.key)
	}
	if c.peer.IsValid() {
		if e.perAddr[c.peer]--; e.perAddr[c.peer] <= 0 {
			delete(e.perAddr, c.peer)
		}
	}
	e.mu.Unlock()
	e.readers.Done()
}

// streamKey indexes stream connections by transport and remote address
// ("ip:port" as net.Addr.String writes it, which is how sipgo writes a
// message's source and a request's destination).
func streamKey(t Transport, remote string) string { return string(t) + " " + remote }

// streamTo returns the tracked connection of transport t to or from
// remote, or nil.
func (e *Engine) streamTo(t Transport, remote string) *streamConn {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.byRemote[streamKey(t, remote)]
}

// Addrs returns the bound listening addresses, in the order of
// Config.Listen, with the real ports of ":0" listeners. It is empty before
// Start.
func (e *Engine) Addrs() []Addr {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.addrsLocked()
}

func (e *Engine) addrsLocked() []Addr {
	out := make([]Addr, len(e.listeners))
	for i, l := range e.listeners {
		out[i] = l.addr
		out[i].IP = slices.Clone(l.addr.IP)
	}
	return out
}

// init lifts sipgo's refusal to send a message over UDP when it is larger
// than sip.UDPMTUSize-200 bytes (1300: "size of packet larger than
// MTU"). The engine applies RFC 3261 §18.1.1 to requests itself (see
// udpToTCP), and a response goes back over the transport its request
// came on, whatever its size (§18.2.2): a large INVITE received over UDP
// must be answered over UDP. The limit becomes the largest UDP payload.
// sipgo's limit is a package variable, set here once before anything
// runs; the engine is the only user of sipgo in the host.
func init() {
	sip.UDPMTUSize = 65535 + 200
}
