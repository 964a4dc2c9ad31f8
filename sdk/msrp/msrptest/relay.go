package msrptest

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/sipstreams/sipstreams/sdk/msrp"
)

// Defaults of RelayConfig.
const (
	DefaultRealm   = "relay.test"
	DefaultMaxBody = 1 << 20
	// Expires is the reservation lifetime, in seconds, given with Use-Path.
	Expires = 900
)

// ErrRelayClosed is returned by Relay methods after Close.
var ErrRelayClosed = errors.New("msrptest: relay closed")

// RelayConfig configures a Relay.
type RelayConfig struct {
	// Addr is the listening address; "127.0.0.1:0" when empty.
	Addr string
	// Realm of the digest challenge; DefaultRealm when empty.
	Realm string
	// Username and Password are the only credentials accepted.
	Username, Password string
	// TLSConfig, when set, makes the relay listen with TLS (msrps).
	TLSConfig *tls.Config
	// MaxBody bounds a forwarded chunk's body; DefaultMaxBody when 0.
	MaxBody int64
}

// Record is one request the relay received, in arrival order.
type Record struct {
	Method   string
	ToPath   string // as received
	FromPath string // as received
	// Status is the relay's own answer: 200, 401 or 403 to AUTH, 481 or
	// 400 to a request it could not forward; 0 when it forwarded it.
	Status int
	// Forwarded is true when the request was passed on to a client.
	Forwarded bool
}

// Relay is a running relay emulation. Close stops it and its goroutines.
type Relay struct {
	cfg RelayConfig
	ln  net.Listener
	uri msrp.URI
	wg  sync.WaitGroup

	mu     sync.Mutex
	closed bool
	conns  map[*peer]struct{}
	// routes leads to the connection of a URI by its session-id: the
	// authenticated clients, and the peers that sent requests through the
	// relay without authenticating (responses and the other side's
	// requests go back on their connection).
	routes  map[string]route
	pending map[txKey]origin
	records []Record
}

// peer is one connection to the relay.
type peer struct {
	nc    net.Conn
	wmu   sync.Mutex
	id    string // session-id of the relay URI that stands for this peer
	nonce string // the digest nonce issued to it
	authd bool   // the peer authenticated: it is a client
}

type route struct {
	via *peer
	uri msrp.URI
}

type txKey struct {
	to  *peer
	tid string
}

type origin struct {
	from *peer
	req  *msrp.Message
}

// StartRelay listens and serves until Close.
func StartRelay(cfg RelayConfig) (*Relay, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Realm == "" {
		cfg.Realm = DefaultRealm
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("msrptest: listen: %w", err)
	}
	if cfg.TLSConfig != nil {
		ln = tls.NewListener(ln, cfg.TLSConfig)
	}
	a := ln.Addr().(*net.TCPAddr)
	r := &Relay{
		cfg:     cfg,
		ln:      ln,
		uri:     msrp.URI{Secure: cfg.TLSConfig != nil, Host: a.IP.String(), Port: a.Port, Transport: "tcp"},
		conns:   map[*peer]struct{}{},
		routes:  map[string]route{},
		pending: map[txKey]origin{},
	}
	r.wg.Add(1)
	go r.acceptLoop()
	return r, nil
}

// URI is the relay's URI, the To-Path of AUTH (no session-id).
func (r *Relay) URI() msrp.URI { return r.uri }

// Addr is the listening address.
func (r *Relay) Addr() net.Addr { return r.ln.Addr() }

// Setting is the relay as the nat_traversal.msrp_relay account setting
// writes it: host:port;transport=tcp|tls.
func (r *Relay) Setting() string {
	t := "tcp"
	if r.uri.Secure {
		t = "tls"
	}
	return net.JoinHostPort(r.uri.Host, strconv.Itoa(r.uri.Port)) + ";transport=" + t
}

// Records returns a copy of what the relay received so far.
func (r *Relay) Records() []Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Record(nil), r.records...)
}

// Close stops listening, closes every connection and waits for the
// relay's goroutines.
func (r *Relay) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return ErrRelayClosed
	}
	r.closed = true
	for p := range r.conns {
		_ = p.nc.Close()
	}
	r.mu.Unlock()
	err := r.ln.Close()
	r.wg.Wait()
	return err
}

func (r *Relay) acceptLoop() {
	defer r.wg.Done()
	for {
		nc, err := r.ln.Accept()
		if err != nil {
			return
		}
		p := &peer{nc: nc, id: randomHex(10)}
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			_ = nc.Close()
			return
		}
		r.conns[p] = struct{}{}
		r.wg.Add(1)
		r.mu.Unlock()
		go r.serve(p)
	}
}

func (r *Relay) serve(p *peer) {
	defer r.wg.Done()
	defer r.drop(p)
	rd := msrp.NewReader(p.nc)
	for {
		m, err := rd.ReadMessage(r.cfg.MaxBody)
		if err != nil {
			var pe *msrp.ParseError
			if errors.As(err, &pe) && pe.TransactionID != "" {
				continue
			}
			return
		}
		if !m.IsRequest() {
			r.forwardResponse(p, m)
			continue
		}
		if m.Method == msrp.MethodAUTH {
			r.auth(p, m)
			continue
		}
		r.forwardRequest(p, m)
	}
}

func (r *Relay) drop(p *peer) {
	_ = p.nc.Close()
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.conns, p)
	for id, rt := range r.routes {
		if rt.via == p {
			delete(r.routes, id)
		}
	}
	for k, o := range r.pending {
		if k.to == p || o.from == p {
			delete(r.pending, k)
		}
	}
}

func (r *Relay) record(m *msrp.Message, status int, forwarded bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, Record{
		Method: m.Method, ToPath: m.Header(msrp.HeaderToPath), FromPath: m.Header(msrp.HeaderFromPath),
		Status: status, Forwarded: forwarded,
	})
}

// own is the relay URI standing for p.
func (r *Relay) own(p *peer) msrp.URI {
	u := r.uri
	u.SessionID = p.id
	return u
}

func (r *Relay) isOwn(u msrp.URI) bool {
	return u.Secure == r.uri.Secure && strings.EqualFold(u.Host, r.uri.Host) && u.Port == r.uri.Port
}

func (p *peer) write(m *msrp.Message) {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	_, _ = m.WriteTo(p.nc)
}

// answer sends the relay's own response to req, as an MSRP endpoint would.
func (r *Relay) answer(p *peer, req *msrp.Message, code int, extra ...msrp.HeaderField) {
	resp := &msrp.Message{TransactionID: req.TransactionID, StatusCode: code, Comment: msrp.StatusText(code)}
	from := req.Header(msrp.HeaderFromPath)
	if req.Method == msrp.MethodSEND {
		from, _, _ = strings.Cut(from, " ")
	}
	resp.SetHeader(msrp.HeaderToPath, from)
	resp.SetHeader(msrp.HeaderFromPath, r.own(p).String())
	resp.Headers = append(resp.Headers, extra...)
	p.write(resp)
}

// auth runs RFC 4976 §5.1: a first AUTH draws a 401 challenge, one with
// valid credentials a 200 with Use-Path and Expires, others a 403.
func (r *Relay) auth(p *peer, m *msrp.Message) {
	to, err1 := m.ToPath()
	from, err2 := m.FromPath()
	if err1 != nil || err2 != nil || len(to) != 1 || !r.isOwn(to[0]) || len(from) != 1 {
		r.record(m, msrp.StatusBadRequest, false)
		r.answer(p, m, msrp.StatusBadRequest)
		return
	}
	authz := m.Header(msrp.HeaderAuthorization)
	if authz == "" {
		p.nonce = randomHex(16)
		r.record(m, msrp.StatusUnauthorized, false)
		r.answer(p, m, msrp.StatusUnauthorized, msrp.HeaderField{Name: msrp.HeaderWWWAuth,
			Value: fmt.Sprintf(`Digest realm="%s", qop="auth", nonce="%s", opaque="%s"`, r.cfg.Realm, p.nonce, p.id)})
		return
	}
	if !r.validDigest(p, authz, m.Header(msrp.HeaderToPath)) {
		r.record(m, msrp.StatusForbidden, false)
		r.answer(p, m, msrp.StatusForbidden)
		return
	}
	r.mu.Lock()
	p.authd = true
	r.routes[from[0].SessionID] = route{via: p, uri: from[0]}
	r.mu.Unlock()
	r.record(m, msrp.StatusOK, false)
	r.answer(p, m, msrp.StatusOK,
		msrp.HeaderField{Name: msrp.HeaderUsePath, Value: r.own(p).String()},
		msrp.HeaderField{Name: msrp.HeaderExpires, Value: strconv.Itoa(Expires)})
}

// validDigest checks qop=auth credentials computed over the AUTH's
// To-Path: MD5(MD5(user:realm:pass):nonce:nc:cnonce:auth:MD5(AUTH:uri)).
func (r *Relay) validDigest(p *peer, authz, uri string) bool {
	d, err := msrp.ParseDigest(authz)
	if err != nil || p.nonce == "" {
		return false
	}
	ha1 := md5hex(r.cfg.Username + ":" + r.cfg.Realm + ":" + r.cfg.Password)
	ha2 := md5hex(msrp.MethodAUTH + ":" + uri)
	want := md5hex(ha1 + ":" + p.nonce + ":" + d["nc"] + ":" + d["cnonce"] + ":auth:" + ha2)
	return d["username"] == r.cfg.Username && d["realm"] == r.cfg.Realm && d["nonce"] == p.nonce &&
		d["qop"] == "auth" && d["opaque"] == p.id && d["response"] == want
}

// forwardRequest passes a request on (RFC 4976 §6): the relay's URIs are
// taken off the front of To-Path, the next hop must be an authenticated
// client or a peer that sent through the relay before, and the relay's URI
// for the sender goes in front of From-Path.
func (r *Relay) forwardRequest(p *peer, m *msrp.Message) {
	to, err1 := m.ToPath()
	from, err2 := m.FromPath()
	if err1 != nil || err2 != nil {
		r.refuse(p, m, msrp.StatusBadRequest)
		return
	}
	n := 0
	for n < len(to) && r.isOwn(to[n]) {
		n++
	}
	if n == 0 || n == len(to) {
		r.refuse(p, m, msrp.StatusNoSuchSession)
		return
	}
	rest := to[n:]
	r.mu.Lock()
	if _, known := r.routes[from[0].SessionID]; !known && !p.authd {
		r.routes[from[0].SessionID] = route{via: p, uri: from[0]}
	}
	rt, ok := r.routes[rest[0].SessionID]
	target := rt.via
	if !ok || !rt.uri.Equal(rest[0]) || r.closed {
		r.mu.Unlock()
		r.refuse(p, m, msrp.StatusNoSuchSession)
		return
	}
	if m.Method != msrp.MethodREPORT {
		r.pending[txKey{target, m.TransactionID}] = origin{from: p, req: m}
	}
	r.records = append(r.records, Record{Method: m.Method, ToPath: m.Header(msrp.HeaderToPath),
		FromPath: m.Header(msrp.HeaderFromPath), Forwarded: true})
	r.mu.Unlock()

	fwd := *m
	fwd.Headers = append([]msrp.HeaderField(nil), m.Headers...)
	fwd.SetPath(msrp.HeaderToPath, rest)
	fwd.SetPath(msrp.HeaderFromPath, append([]msrp.URI{r.own(p)}, from...))
	target.write(&fwd)
}

func (r *Relay) refuse(p *peer, m *msrp.Message, code int) {
	r.record(m, code, false)
	if m.Method != msrp.MethodREPORT {
		r.answer(p, m, code)
	}
}

// forwardResponse returns a transaction response to the connection the
// request came from.
func (r *Relay) forwardResponse(p *peer, m *msrp.Message) {
	k := txKey{p, m.TransactionID}
	r.mu.Lock()
	o, ok := r.pending[k]
	delete(r.pending, k)
	r.mu.Unlock()
	if !ok {
		return
	}
	to := o.req.Header(msrp.HeaderFromPath)
	if o.req.Method == msrp.MethodSEND {
		to, _, _ = strings.Cut(to, " ")
	}
	resp := &msrp.Message{TransactionID: m.TransactionID, StatusCode: m.StatusCode, Comment: m.Comment}
	resp.SetHeader(msrp.HeaderToPath, to)
	resp.SetHeader(msrp.HeaderFromPath, r.own(o.from).String())
	o.from.write(resp)
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
