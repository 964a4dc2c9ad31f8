package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Client returns the sipgo client for building transactions and dialogs
// (sipgo.DialogUA, sipgo.DialogClientSession...). Requests it sends go
// through the engine like those of [Engine.Request]: routed by their
// Request-URI or top Route header (resolved with [Engine.Lookup] when it
// names a domain), given a User-Agent and sent from the engine's sockets.
// Its WriteRequest is for ACK only: any other request passed to it is sent
// as a transaction.
func (e *Engine) Client() *sipgo.Client { return e.client }

// OnRequest registers the handler for requests of method, replacing any
// previous one; a nil h removes it. It may be called at any time. A
// handler runs in its own goroutine and its server transaction is
// terminated when it returns (sipgo's rule), so an INVITE handler must
// stay until it has sent its final response.
//
// Requests without a handler get: OPTIONS, 200 with Allow (and Accept:
// application/sdp when INVITE is handled); ACK, nothing; CANCEL that
// matches no transaction, 481; another method of RFC 3261 or its
// extensions, 405 with Allow; a method the engine does not know, 501 with
// Allow. Requests that break RFC 3261's rules never reach a handler (see
// the package documentation), and a handler's panic is answered 500.
func (e *Engine) OnRequest(method sip.RequestMethod, h sipgo.RequestHandler) {
	e.hmu.Lock()
	defer e.hmu.Unlock()
	if h == nil {
		delete(e.handlers, method)
		return
	}
	e.handlers[method] = h
}

// allow returns the Allow header value: the handled methods and OPTIONS,
// plus ACK and CANCEL when INVITE is handled.
func (e *Engine) allow() (allow string, invite bool) {
	e.hmu.RLock()
	methods := []string{string(sip.OPTIONS)}
	for m := range e.handlers {
		methods = append(methods, string(m))
	}
	_, invite = e.handlers[sip.INVITE]
	e.hmu.RUnlock()
	if invite {
		methods = append(methods, string(sip.ACK), string(sip.CANCEL))
	}
	slices.Sort(methods)
	return strings.Join(slices.Compact(methods), ", "), invite
}

// knownMethods are the methods of RFC 3261 and its extensions the
// engine recognises: an unhandled one is answered 405 Method Not Allowed,
// any other 501 Not Implemented (RFC 3261 §8.2.1, §21.5.2).
var knownMethods = []sip.RequestMethod{
	sip.INVITE, sip.ACK, sip.CANCEL, sip.BYE, sip.REGISTER, sip.OPTIONS, sip.SUBSCRIBE,
	sip.NOTIFY, sip.REFER, sip.INFO, sip.MESSAGE, sip.PRACK, sip.UPDATE, sip.PUBLISH,
}

// dispatch is sipgo's handler for every request that passed the engine's
// checks (see inspect). It waits until the engine is ready (see
// Config.WaitReady), marks the stream the request came on busy for the
// transaction's life, and recovers a handler's panic: the request is then
// answered 500 and the panic counted and logged with the request.
func (e *Engine) dispatch(req *sip.Request, tx sip.ServerTransaction) {
	e.mu.Lock()
	if e.state != stateRunning {
		e.mu.Unlock()
		return
	}
	e.inflight.Add(1)
	e.mu.Unlock()
	defer e.inflight.Done()

	if req.Method == sip.INVITE && e.accepted.has(req) {
		// A retransmission of an INVITE answered 2xx, whose transaction
		// ended with the 2xx (accepted.go): absorbed. sipgo terminates the
		// transaction it made for it when dispatch returns, before its
		// 100 Trying timer.
		e.stats.absorbed.Add(1)
		return
	}

	if t := Transport(strings.ToLower(req.Transport())); t.reliable() && tx != nil {
		if sc := e.streamTo(t, req.Source()); sc != nil {
			sc.hold()
			if !tx.OnTerminate(func(string, error) { sc.release() }) {
				sc.release()
			}
		}
	}
	if !e.waitReady(req, tx) {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			e.stats.panics.Add(1)
			e.log.Error("request handler panicked; answering 500", "panic", r,
				"request", maskKeys(req.String()), "stack", string(debug.Stack()))
			if !req.IsAck() && tx != nil {
				_ = e.Respond(tx, req, sip.StatusInternalServerError, "Server Internal Error", nil)
			}
		}
	}()

	e.hmu.RLock()
	h := e.handlers[req.Method]
	e.hmu.RUnlock()
	if h != nil {
		h(req, tx)
		return
	}
	var err error
	switch req.Method {
	case sip.ACK:
		return
	case sip.CANCEL:
		err = e.Respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil)
	case sip.OPTIONS:
		allow, invite := e.allow()
		hdrs := []sip.Header{sip.NewHeader("Allow", allow)}
		if invite {
			hdrs = append(hdrs, sip.NewHeader("Accept", "application/sdp"))
		}
		err = e.Respond(tx, req, sip.StatusOK, "OK", nil, hdrs...)
	default:
		allow, _ := e.allow()
		code, reason := sip.StatusMethodNotAllowed, "Method Not Allowed"
		if !slices.Contains(knownMethods, req.Method) {
			code, reason = sip.StatusNotImplemented, "Not Implemented"
		}
		err = e.Respond(tx, req, code, reason, nil, sip.NewHeader("Allow", allow))
	}
	if err != nil {
		e.log.Debug("default response failed", "request", req.Short(), "error", err)
	}
}

// waitReady waits until the engine is ready; a request that waits longer
// than DefaultReadyWait is answered 503 with Retry-After. It reports
// whether the request may go on.
func (e *Engine) waitReady(req *sip.Request, tx sip.ServerTransaction) bool {
	select {
	case <-e.ready:
		return true
	default:
	}
	t := time.NewTimer(e.readyWait)
	defer t.Stop()
	select {
	case <-e.ready:
		return true
	case <-e.done:
		return false
	case <-t.C:
	}
	if !req.IsAck() && tx != nil {
		_ = e.Respond(tx, req, sip.StatusServiceUnavailable, "Service Unavailable", nil, sip.NewHeader("Retry-After", "5"))
	}
	return false
}

// sending reports whether the engine can send.
func (e *Engine) sending() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch e.state {
	case stateNew:
		return ErrNotStarted
	case stateClosed:
		return ErrClosed
	}
	return nil
}

// routeKey carries the Route of Request and Write through sipgo's client
// to the engine's requester.
type routeKey struct{}

// applyRoute points req at r.
func applyRoute(req *sip.Request, r Route) error {
	if !r.Transport.valid() || net.ParseIP(r.Address) == nil || r.Port <= 0 || r.Port > 65535 {
		return &NoRouteError{Target: r.String(), Reason: "invalid route", Err: ErrUnsupportedTransport}
	}
	req.SetDestination(r.hostPort())
	req.SetTransport(r.Transport.network())
	return nil
}

// Request sends req in a new client transaction over r: it sets the
// destination and transport from r, fills in the headers req lacks (Via
// with rport and the listening address as sent-by, From, To, Call-ID,
// CSeq, Max-Forwards, User-Agent) and sends it from the engine's listener
// for that transport. The caller reads tx.Responses() (sipgo blocks the
// transaction until each response is read) and terminates tx when done.
// ACK is refused: send it with [Engine.Write].
func (e *Engine) Request(ctx context.Context, req *sip.Request, r Route) (sip.ClientTransaction, error) {
	if req.IsAck() {
		return nil, errors.New("engine: ACK is sent with Write, not in a transaction")
	}
	if err := e.sending(); err != nil {
		return nil, err
	}
	if err := applyRoute(req, r); err != nil {
		return nil, err
	}
	return e.client.TransactionRequest(context.WithValue(ctx, routeKey{}, r), req)
}

// Write sends req once, outside any transaction, over r: the ACK for a 2xx
// response to INVITE (RFC 3261 §13.2.2.4), or a retransmission of it.
// Missing headers are filled in as by [Engine.Request].
func (e *Engine) Write(req *sip.Request, r Route) error {
	if err := e.sending(); err != nil {
		return err
	}
	if err := applyRoute(req, r); err != nil {
		return err
	}
	if err := sipgo.ClientRequestBuild(e.client, req); err != nil {
		return err
	}
	ctx := context.WithValue(context.Background(), routeKey{}, r)
	if err := e.prepare(ctx, req); err != nil {
		return err
	}
	return e.ua.TransportLayer().WriteMsg(req)
}

// requester is the sipgo client's transaction requester: every request
// the client sends, from Request or from sipgo's dialogs, comes here.
type requester struct{ e *Engine }

// Request prepares req and starts its transaction, or writes it if it is
// an ACK.
func (r requester) Request(ctx context.Context, req *sip.Request) (sip.ClientTransaction, error) {
	if err := r.e.sending(); err != nil {
		return nil, err
	}
	if err := r.e.prepare(ctx, req); err != nil {
		return nil, err
	}
	if req.IsAck() {
		return nil, r.e.ua.TransportLayer().WriteMsg(req)
	}
	tx, err := r.e.ua.TransactionLayer().Request(ctx, req)
	if err != nil {
		return nil, err
	}
	if t := Transport(strings.ToLower(req.Transport())); t.reliable() {
		if sc := r.e.streamTo(t, req.Destination()); sc != nil {
			sc.hold()
			if !tx.OnTerminate(func(string, error) { sc.release() }) {
				sc.release()
			}
		}
	}
	return tx, nil
}

// prepare routes a fully built request: destination (from the Route in
// ctx, an explicit destination, or else the Request-URI / top Route
// resolved by Lookup), the listener to send from, Via sent-by, User-Agent,
// and the connection (UDP: the listener socket; TCP/TLS: an engine-dialed
// connection in sipgo's pool).
func (e *Engine) prepare(ctx context.Context, req *sip.Request) error {
	t := Transport(strings.ToLower(req.Transport()))
	if !t.valid() {
		return &NoRouteError{Target: req.Recipient.String(), Reason: "transport " + string(t), Err: ErrUnsupportedTransport}
	}
	var ip net.IP
	var port int
	var serverName string
	if r, ok := ctx.Value(routeKey{}).(Route); ok {
		ip, port, serverName = net.ParseIP(r.Address), r.Port, r.serverName()
	} else if dest := req.MessageData.Destination(); dest != "" {
		host, p, err := sip.ParseAddr(dest)
		if ip = net.ParseIP(strings.Trim(host, "[]")); err != nil || ip == nil {
			return &NoRouteError{Target: dest, Reason: "destination is not ip:port"}
		}
		port, serverName = p, ip.String()
	} else {
		uri := req.Recipient
		if h := req.Route(); h != nil {
			uri = h.Address
		}
		if ip = net.ParseIP(strings.Trim(uri.Host, "[]")); ip != nil {
			if port = uri.Port; port == 0 {
				port = t.defaultPort()
			}
			serverName = ip.String()
		} else {
			routes, err := e.Lookup(ctx, uri, t)
			if err != nil {
				return err
			}
			r := routes[0]
			ip, port, serverName = net.ParseIP(r.Address), r.Port, r.serverName()
		}
		req.SetDestination(net.JoinHostPort(ip.String(), strconv.Itoa(port)))
	}
	l := e.listenerFor(t, ip)
	if l == nil {
		return &NoRouteError{Target: req.Destination(), Reason: fmt.Sprintf("no %s listener for that address family", t), Err: ErrUnsupportedTransport}
	}
	if ua := e.cfg.UserAgent; ua != "" && req.GetHeader("User-Agent") == nil {
		req.AppendHeader(sip.NewHeader("User-Agent", ua))
	}
	if via := req.Via(); via != nil {
		if via.Host == "" {
			via.Host = localIP(l, ip).String()
		}
		if via.Port == 0 {
			via.Port = l.addr.Port
		}
	}
	if t == TransportUDP {
		if switched, err := e.udpToTCP(ctx, req, ip, port, serverName); switched || err != nil {
			return err
		}
		req.Laddr = sip.Addr{IP: l.addr.IP, Port: l.addr.Port}
		return nil
	}
	return e.ensureConn(ctx, t, l, ip, port, serverName)
}

// maxUDPRequest is RFC 3261 §18.1.1's limit for a request over UDP when
// the path MTU is unknown.
const maxUDPRequest = 1300

// udpToTCP sends over TCP a request routed over UDP that is larger than
// maxUDPRequest (RFC 3261 §18.1.1: "the request MUST be sent using an RFC
// 2914 congestion controlled transport protocol, such as TCP", the top
// Via changed to match), to the same address and port, when the engine
// listens on TCP. It also sends a CANCEL over TCP when its Via, copied
// from the INVITE, says that the INVITE went over TCP (RFC 3261 §9.1). It
// reports whether the request goes over TCP. When the TCP connection
// cannot be made, a large request goes over UDP after all (IP fragments
// it; every SIP element must accept datagrams up to 65,535 bytes,
// §18.1.1); a CANCEL fails.
func (e *Engine) udpToTCP(ctx context.Context, req *sip.Request, ip net.IP, port int, serverName string) (bool, error) {
	via := req.Via()
	if via == nil {
		return false, nil
	}
	cancel := req.IsCancel() && strings.EqualFold(via.Transport, "TCP")
	if !cancel && len(req.String()) <= maxUDPRequest {
		return false, nil
	}
	tl := e.listenerFor(TransportTCP, ip)
	if tl == nil {
		return false, nil
	}
	err := e.ensureConn(ctx, TransportTCP, tl, ip, port, serverName)
	if err != nil && !cancel {
		e.log.Debug("request larger than the MTU sent over UDP: no TCP connection", "request", req.Short(), "error", err)
		return false, nil
	}
	req.SetTransport(TransportTCP.network())
	via.Transport = TransportTCP.network()
	via.Host, via.Port = localIP(tl, ip).String(), tl.addr.Port
	return true, err
}
