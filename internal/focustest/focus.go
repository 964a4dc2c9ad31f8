package focustest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/sipstreams/sipstreams/framework/conference"
	"github.com/sipstreams/sipstreams/framework/refer"
	"github.com/sipstreams/sipstreams/sdk/msrp"
	"github.com/sipstreams/sipstreams/sdk/msrpstream"
)

// requestTimeout bounds each request the focus sends and each wait of
// its own (an MSRP binding, a participant's answer).
const requestTimeout = 20 * time.Second

// init lifts sipgo's refusal to send a message over UDP larger than
// sip.UDPMTUSize-200 bytes, as framework/engine does for the host: a full
// conference-info document of a few participants is larger than that,
// and the focus serves SIP over UDP only (on loopback, where a datagram
// of any size up to 65,535 bytes arrives whole). sipgo's limit is a
// package variable; this sets the value the engine sets.
func init() {
	sip.UDPMTUSize = 65535 + 200
}

// ErrClosed is returned by the methods of a closed focus.
var ErrClosed = errors.New("focustest: focus closed")

// Option configures Start.
type Option func(*options)

type options struct {
	addr    string
	user    string
	subject string
	log     *slog.Logger
}

// WithAddress sets the IP:port of the SIP (UDP) socket; "127.0.0.1:0" by
// default. The MSRP listeners take ports of their own on the same IP.
func WithAddress(addr string) Option { return func(o *options) { o.addr = addr } }

// WithUser sets the user part of the conference URI; "conference" by
// default.
func WithUser(user string) Option { return func(o *options) { o.user = user } }

// WithSubject sets the conference subject of the conference-info
// documents.
func WithSubject(s string) Option { return func(o *options) { o.subject = s } }

// WithLogger sets the logger of the focus and of sipgo; discarded by
// default.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// Focus is a running conference focus. Its methods are safe for
// concurrent use.
type Focus struct {
	log     *slog.Logger
	subject string
	uri     sip.Uri           // the conference URI
	contact sip.ContactHeader // ours, with isfocus

	ua   *sipgo.UserAgent
	srv  *sipgo.Server
	cli  *sipgo.Client
	pc   net.PacketConn
	rp   *readyConn               // pc as sipgo reads it
	in   *sipgo.DialogServerCache // dialogs of the participants who called
	out  *sipgo.DialogClientCache // dialogs of those the focus dialed
	msrp map[bool]*msrp.Listener  // by TLS
	fp   msrpstream.Fingerprint   // of the MSRP TLS certificate

	ctx    context.Context // ends with Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // the goroutines the focus started

	mu          sync.Mutex
	closed      bool
	members     []*member
	subs        map[string]*subscription // by Call-ID
	referCode   int
	referReason string
	referBody   []byte // GarbleReferProgress's
	events      []Event
	changed     chan struct{} // closed (and replaced) when events grows
}

// Start binds the focus's sockets on loopback and serves them until
// Close. ctx bounds the start only.
func Start(ctx context.Context, opts ...Option) (*Focus, error) {
	o := options{addr: "127.0.0.1:0", user: "conference"}
	for _, opt := range opts {
		opt(&o)
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	var lc net.ListenConfig
	pc, err := lc.ListenPacket(ctx, "udp", o.addr)
	if err != nil {
		return nil, err
	}
	la := pc.LocalAddr().(*net.UDPAddr)
	ip := la.IP.String()
	fctx, cancel := context.WithCancel(context.Background())
	f := &Focus{
		log:     o.log,
		subject: o.subject,
		uri:     sip.Uri{Scheme: "sip", User: o.user, Host: ip, Port: la.Port},
		pc:      pc,
		msrp:    map[bool]*msrp.Listener{},
		ctx:     fctx,
		cancel:  cancel,
		subs:    map[string]*subscription{},
		changed: make(chan struct{}),
	}
	f.contact = sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: o.user, Host: ip, Port: la.Port}, Params: sip.NewParams()}
	f.contact.Params.Add("isfocus", "")
	fail := func(err error) (*Focus, error) {
		f.cancel()
		for _, l := range f.msrp {
			_ = l.Close()
		}
		if f.ua != nil {
			_ = f.ua.Close()
		}
		_ = pc.Close()
		return nil, err
	}

	cert, fp, err := selfSigned(la.IP)
	if err != nil {
		return fail(err)
	}
	f.fp = fp
	mcfg := msrp.Config{Logger: o.log.With("component", "focus-msrp"), KeepAliveInterval: -1}
	for _, secure := range []bool{false, true} {
		cfg := mcfg
		if secure {
			cfg.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		}
		l, err := msrp.Listen(ctx, net.JoinHostPort(ip, "0"), cfg)
		if err != nil {
			return fail(err)
		}
		f.msrp[secure] = l
	}

	slog := o.log.With("component", "focus-sip")
	f.ua, err = sipgo.NewUA(sipgo.WithUserAgent(o.user), sipgo.WithUserAgentHostname(ip),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(slog)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(slog)))
	if err != nil {
		return fail(err)
	}
	if f.srv, err = sipgo.NewServer(f.ua, sipgo.WithServerLogger(slog)); err != nil {
		return fail(err)
	}
	addr := net.JoinHostPort(ip, strconv.Itoa(la.Port))
	if f.cli, err = sipgo.NewClient(f.ua, sipgo.WithClientLogger(slog), sipgo.WithClientHostname(ip),
		sipgo.WithClientConnectionAddr(addr)); err != nil {
		return fail(err)
	}
	f.in = sipgo.NewDialogServerCache(f.cli, f.contact)
	f.out = sipgo.NewDialogClientCache(f.cli, f.contact)
	f.srv.OnInvite(f.onInvite)
	f.srv.OnAck(f.onAck)
	f.srv.OnBye(f.onBye)
	f.srv.OnSubscribe(f.onSubscribe)
	f.srv.OnRefer(f.onRefer)
	f.srv.OnNotify(func(req *sip.Request, tx sip.ServerTransaction) {
		// The focus subscribes to nothing.
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Subscription Does Not Exist", nil))
	})

	// sipgo files the socket in its pool, which requests are sent from,
	// when its Serve goroutine first reads it.
	rp := newReadyConn(pc)
	f.rp = rp
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		defer close(rp.served)
		defer rp.markReady()
		if err := f.srv.ServeUDP(rp); err != nil && f.ctx.Err() == nil {
			f.log.Error("SIP socket stopped", "error", err)
		}
	}()
	select {
	case <-rp.ready:
	case <-ctx.Done():
		_ = f.Close()
		return nil, ctx.Err()
	}
	return f, nil
}

// readyConn is the focus's SIP socket as sipgo reads it: it tells when
// sipgo first reads it (sipgo files the socket in its pool then), keeps
// the addresses it read from, and parks sipgo's reader during Close (see
// Focus.Close).
type readyConn struct {
	net.PacketConn
	once   sync.Once
	ready  chan struct{}
	served chan struct{} // closed when sipgo's Serve returned

	mu      sync.Mutex
	seen    map[string]struct{}
	closing bool
	paused  chan struct{} // closed when the reader parked
	pause   sync.Once
	release chan struct{} // closed by Close: the reader returns
}

func newReadyConn(pc net.PacketConn) *readyConn {
	return &readyConn{
		PacketConn: pc, ready: make(chan struct{}), served: make(chan struct{}),
		seen: map[string]struct{}{}, paused: make(chan struct{}), release: make(chan struct{}),
	}
}

func (r *readyConn) markReady() { r.once.Do(func() { close(r.ready) }) }

func (r *readyConn) ReadFrom(p []byte) (int, net.Addr, error) {
	r.markReady()
	n, addr, err := r.PacketConn.ReadFrom(p)
	r.mu.Lock()
	closing := r.closing
	if !closing && err == nil {
		r.seen[addr.String()] = struct{}{}
	}
	r.mu.Unlock()
	if closing {
		r.pause.Do(func() { close(r.paused) })
		<-r.release
		return 0, nil, net.ErrClosed
	}
	return n, addr, err
}

// stop parks the reader (what it reads now is dropped) and returns the
// addresses it read from before.
func (r *readyConn) stop() []string {
	r.mu.Lock()
	r.closing = true
	seen := make([]string, 0, len(r.seen))
	for a := range r.seen {
		seen = append(seen, a)
	}
	r.mu.Unlock()
	_ = r.SetReadDeadline(time.Now())
	select {
	case <-r.paused:
	case <-r.served:
	}
	return seen
}

// closedConn stands in sipgo's pool, once the focus closes, for the
// socket and for every address it read from: sipgo answers a request
// with the pool's connection to its source (it opens a socket of its own
// when there is none, and nobody would close it), and sends a request
// from the connection under its local address. A closedConn refuses to
// write.
type closedConn struct{ local net.Addr }

func (c closedConn) LocalAddr() net.Addr        { return c.local }
func (c closedConn) WriteMsg(sip.Message) error { return net.ErrClosed }
func (c closedConn) Ref(int) int                { return 1 }
func (c closedConn) TryClose() (int, error)     { return 1, nil }
func (c closedConn) Close() error               { return nil }

// selfSigned makes the certificate of the MSRP TLS listener.
func selfSigned(ip net.IP) (tls.Certificate, msrpstream.Fingerprint, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, msrpstream.Fingerprint{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "focustest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{ip}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, msrpstream.Fingerprint{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, msrpstream.NewFingerprint(der), nil
}

// URI returns the conference URI: sip:USER@IP:PORT, to call over UDP.
func (f *Focus) URI() sip.Uri { return f.uri }

// URIString returns URI as a string.
func (f *Focus) URIString() string { return f.uri.String() }

// RefuseRefers makes the focus answer every REFER with code and reason
// (code 0 accepts them again).
func (f *Focus) RefuseRefers(code int, reason string) {
	if reason == "" {
		reason = refer.ReasonPhrase(code)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.referCode, f.referReason = code, reason
}

// GarbleReferProgress makes the focus accept every REFER (202) and send,
// instead of its progress, one NOTIFY with body as its message/sipfrag,
// ending the refer subscription; nobody is dialed or hung up on. A nil
// body restores the normal progress.
func (f *Focus) GarbleReferProgress(body []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.referBody = body
}

// Close ends the calls of every participant (BYE), closes the sockets and
// waits for the goroutines the focus started.
func (f *Focus) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closed = true
	members := f.members
	f.members = nil
	f.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	for _, m := range members {
		m.hangUp(ctx)
	}
	cancel()
	f.cancel()
	for _, l := range f.msrp {
		_ = l.Close()
	}
	for _, m := range members {
		m.release()
	}
	// sipgo's reader parked, stand-ins replace the socket in its pool (a
	// message still being handled, or a request a goroutine of ours
	// sends now, finds one that refuses to write instead of making sipgo
	// open a socket and a reader of its own), the transactions end, then
	// the reader is let go. The pool is never cleared: that would drop
	// the stand-ins.
	stand := closedConn{local: f.pc.LocalAddr()}
	pool := f.ua.TransportLayer().Pool("udp")
	for _, a := range f.rp.stop() {
		pool.Add(a, stand)
	}
	pool.Add(f.pc.LocalAddr().String(), stand)
	f.ua.TransactionLayer().Close()
	close(f.rp.release)
	_ = f.pc.Close() // sipgo leaves the socket it was given open
	f.wg.Wait()
	return nil
}

// spawn runs fn in a goroutine the focus owns; it reports false when the
// focus is closed (fn does not run). f.mu must not be held.
func (f *Focus) spawn(fn func()) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.spawnLocked(fn)
}

func (f *Focus) spawnLocked(fn func()) bool {
	if f.closed {
		return false
	}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		fn()
	}()
	return true
}

// State returns the conference state the focus publishes, as a full
// document without a version.
func (f *Focus) State() *conference.Info {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fullLocked()
}

// closeAll closes what may be nil.
func closeAll(cs ...io.Closer) {
	for _, c := range cs {
		if c != nil {
			_ = c.Close()
		}
	}
}

func (f *Focus) String() string { return fmt.Sprintf("focus %s", f.uri.String()) }
