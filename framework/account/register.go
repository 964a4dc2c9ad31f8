package account

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sipstreams/sipstreams/framework/engine"
)

// maxChallengeRounds bounds the REGISTERs of one registration attempt
// (challenges and 423 Interval Too Brief).
const maxChallengeRounds = 4

// registration is the registration loop of one account: RFC 3261 §10.2
// with one Call-ID and From tag for its whole life and CSeq increasing.
// It is owned by the loop goroutine; nothing else touches it.
type registration struct {
	a       *Account
	eng     *engine.Engine
	cfg     ManagerConfig
	callID  string
	fromTag string
	cseq    uint32

	// The binding the registrar holds, once a registration succeeded.
	registered bool
	route      engine.Route
	contact    sip.Uri
}

func newRegistration(a *Account) *registration {
	return &registration{
		a:       a,
		eng:     a.m.cfg.Engine,
		cfg:     a.m.cfg,
		callID:  randomToken(24),
		fromTag: randomToken(12),
	}
}

// randomToken returns n (at most 26) random lower-case letters and
// digits.
func randomToken(n int) string {
	return strings.ToLower(rand.Text()[:n])
}

// refreshDelay is when a registration granted for expires is refreshed:
// 30 s before it runs out, but never before half of it (3 s → 1.5 s,
// 60 s → 30 s, 600 s → 570 s).
func refreshDelay(expires time.Duration) time.Duration {
	return max(expires/2, expires-30*time.Second)
}

// result is the outcome of one registration attempt.
type result struct {
	code       int
	reason     string
	err        error // nil on success
	contact    sip.Uri
	route      engine.Route
	expires    time.Duration
	retryAfter time.Duration // from a Retry-After header
}

// run registers, refreshes, retries with back-off until ctx is cancelled,
// then unregisters if registered.
func (r *registration) run(ctx context.Context) {
	interval := r.a.cfg.SIP.RegisterInterval
	backoff := r.cfg.BackoffInitial
	for {
		res := r.register(ctx, interval)
		if ctx.Err() != nil {
			break
		}
		var wait time.Duration
		if res.err == nil {
			r.registered, r.route, r.contact = true, res.route, res.contact
			r.a.setRegistered(true, res.contact)
			r.a.post(SIPAccountRegistrationDidSucceed, RegistrationDidSucceedData{
				Code: res.code, Reason: res.reason, Contact: res.contact,
				Expires: res.expires, Registrar: res.route.String(),
			})
			backoff = r.cfg.BackoffInitial
			wait = refreshDelay(res.expires)
			r.a.log.Debug("registered", "expires", res.expires, "refresh_in", wait, "registrar", res.route.String())
		} else {
			r.registered = false
			r.a.setRegistered(false, sip.Uri{})
			wait = max(backoff, res.retryAfter)
			r.a.post(SIPAccountRegistrationDidFail, RegistrationDidFailData{
				Code: res.code, Reason: res.reason, Error: res.err, RetryAfter: wait,
			})
			r.a.log.Debug("registration failed", "error", res.err, "retry_in", wait)
			backoff = min(2*backoff, r.cfg.BackoffMax)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
			continue
		}
		break
	}
	if r.registered {
		r.unregister(context.WithoutCancel(ctx))
	}
}

// unregister sends REGISTER with Expires: 0 for the registered contact
// over the route that registered it, bounded by UnregisterTimeout, and
// posts RegistrationDidEnd.
func (r *registration) unregister(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.UnregisterTimeout)
	defer cancel()
	res := r.transact(ctx, r.route, r.contact, 0)
	r.registered = false
	r.a.setRegistered(false, sip.Uri{})
	var rerr *RegistrationError
	if res.err != nil && !errors.As(res.err, &rerr) {
		// No answer (or no way to send): no status line to report.
		res.code, res.reason = 0, res.err.Error()
	}
	r.a.log.Debug("unregistered", "code", res.code, "error", res.err)
	r.a.post(SIPAccountRegistrationDidEnd, RegistrationDidEndData{Code: res.code, Reason: res.reason})
}

// target is where REGISTERs go: the outbound proxy if set, else the
// account's domain.
func (r *registration) target() (uri sip.Uri, proxy bool, err error) {
	if p := r.a.cfg.SIP.OutboundProxy; p != "" {
		u, err := parseHostURI(p)
		return u, true, err
	}
	_, domain := r.a.userDomain()
	u, err := parseHostURI(domain)
	return u, false, err
}

// parseHostURI parses "host[:port][;params]" as a sip: URI.
func parseHostURI(s string) (sip.Uri, error) {
	var u sip.Uri
	if err := sip.ParseUri("sip:"+s, &u); err != nil {
		return sip.Uri{}, fmt.Errorf("account: bad address %q: %w", s, err)
	}
	if u.UriParams == nil {
		u.UriParams = sip.NewParams()
	}
	if u.Headers == nil {
		u.Headers = sip.NewParams()
	}
	return u, nil
}

// register makes one registration attempt with the given lifetime over
// the routes of the target, in order: a route that does not answer or
// cannot be reached passes to the next one.
func (r *registration) register(ctx context.Context, expires time.Duration) result {
	target, _, err := r.target()
	if err != nil {
		return result{reason: err.Error(), err: err}
	}
	var transports []engine.Transport
	if t := r.a.cfg.SIP.Transport; t != "" {
		transports = []engine.Transport{engine.Transport(t)}
	}
	routes, err := r.eng.Lookup(ctx, target, transports...)
	if err != nil {
		return result{reason: "no route to the registrar", err: err}
	}
	var res result
	for _, route := range routes {
		contact := r.eng.ContactFor(route, r.a.contactUser)
		res = r.transact(ctx, route, contact, expires)
		if res.err == nil || ctx.Err() != nil {
			return res
		}
		var rerr *RegistrationError
		if errors.As(res.err, &rerr) {
			return res // the registrar answered: no other route
		}
	}
	return res
}

// transact sends REGISTERs over route until a final answer: it answers
// digest challenges (each challenge once) and 423 Interval Too Brief.
func (r *registration) transact(ctx context.Context, route engine.Route, contact sip.Uri, expires time.Duration) result {
	res := result{route: route, contact: contact}
	if contact.Host == "" {
		res.reason = "no listener for " + route.String()
		res.err = &engine.NoRouteError{Target: route.String(), Reason: "no listener", Err: engine.ErrUnsupportedTransport}
		return res
	}
	answered := make(map[string]bool) // challenges answered, by nonce
	var auth []sip.Header             // credentials for the next request
	for range maxChallengeRounds {
		req, err := r.newRequest(contact, expires, auth)
		if err != nil {
			res.reason, res.err = err.Error(), err
			return res
		}
		resp, err := r.send(ctx, req, route)
		if err != nil {
			res.err = err
			if errors.Is(err, ErrTimeout) {
				res.code, res.reason = sip.StatusRequestTimeout, "Request Timeout"
			} else {
				res.reason = err.Error()
			}
			return res
		}
		res.code, res.reason = resp.StatusCode, resp.Reason
		r.a.post(SIPAccountRegistrationGotAnswer, RegistrationGotAnswerData{Code: resp.StatusCode, Reason: resp.Reason})
		switch code := resp.StatusCode; {
		case code >= 200 && code < 300:
			res.expires = grantedExpires(resp, contact, expires)
			return res
		case code == sip.StatusUnauthorized || code == sip.StatusProxyAuthRequired:
			h, err := r.answerChallenge(req, resp, answered)
			if err != nil {
				r.a.log.Debug("challenge not answered", "error", err)
				res.err = &RegistrationError{Code: code, Reason: resp.Reason}
				return res
			}
			auth = replaceHeader(auth, h)
		case code == 423:
			minExp := headerSeconds(resp, "Min-Expires")
			if minExp <= expires || expires == 0 {
				res.err = &RegistrationError{Code: code, Reason: resp.Reason}
				return res
			}
			expires = minExp
		default:
			res.err = &RegistrationError{Code: code, Reason: resp.Reason}
			res.retryAfter = headerSeconds(resp, "Retry-After")
			return res
		}
	}
	res.err = &RegistrationError{Code: res.code, Reason: res.reason}
	return res
}

// answerChallenge computes the Authorization (401) or
// Proxy-Authorization (407) for resp's challenge, refusing one answered
// before (the credentials were wrong).
func (r *registration) answerChallenge(req *sip.Request, resp *sip.Response, answered map[string]bool) (sip.Header, error) {
	return engine.AnswerChallenge(req, resp, r.a.Credentials(), answered)
}

func replaceHeader(hs []sip.Header, h sip.Header) []sip.Header {
	out := hs[:0]
	for _, x := range hs {
		if !strings.EqualFold(x.Name(), h.Name()) {
			out = append(out, x)
		}
	}
	return append(out, h)
}

// newRequest builds the next REGISTER of the registration.
func (r *registration) newRequest(contact sip.Uri, expires time.Duration, auth []sip.Header) (*sip.Request, error) {
	target, proxy, err := r.target()
	if err != nil {
		return nil, err
	}
	_, domain := r.a.userDomain()
	ruri, err := parseHostURI(domain)
	if err != nil {
		return nil, err
	}
	aor := r.a.URI()
	req := sip.NewRequest(sip.REGISTER, ruri)
	if proxy {
		route := target.Clone()
		route.UriParams.Add("lr", "")
		req.AppendHeader(&sip.RouteHeader{Address: *route})
	}
	from := &sip.FromHeader{DisplayName: r.a.cfg.DisplayName, Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", r.fromTag)
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{DisplayName: r.a.cfg.DisplayName, Address: aor, Params: sip.NewParams()})
	callID := sip.CallIDHeader(r.callID)
	req.AppendHeader(&callID)
	r.cseq++
	req.AppendHeader(&sip.CSeqHeader{SeqNo: r.cseq, MethodName: sip.REGISTER})
	maxFwd := sip.MaxForwardsHeader(70)
	req.AppendHeader(&maxFwd)
	req.AppendHeader(&sip.ContactHeader{Address: contact, Params: sip.NewParams()})
	exp := sip.ExpiresHeader(uint32(expires / time.Second))
	req.AppendHeader(&exp)
	for _, h := range auth {
		req.AppendHeader(h)
	}
	req.SetBody(nil)
	return req, nil
}

// send runs one client transaction over route and returns its final
// response. A registrar that does not answer within RequestTimeout gives
// an error matching [ErrTimeout]; a cancelled ctx gives ctx.Err().
func (r *registration) send(ctx context.Context, req *sip.Request, route engine.Route) (*sip.Response, error) {
	tctx, cancel := context.WithTimeout(ctx, r.cfg.RequestTimeout)
	defer cancel()
	tx, err := r.eng.Request(tctx, req, route)
	if err != nil {
		if ctx.Err() == nil && tctx.Err() != nil {
			return nil, fmt.Errorf("%w: %v", ErrTimeout, err)
		}
		return nil, err
	}
	defer tx.Terminate()
	for {
		select {
		case resp := <-tx.Responses():
			if resp.IsProvisional() {
				continue
			}
			return resp, nil
		case <-tx.Done():
			if err := tx.Err(); err != nil {
				if errors.Is(err, sip.ErrTransactionTimeout) {
					return nil, fmt.Errorf("%w: %v", ErrTimeout, err)
				}
				return nil, err
			}
			return nil, errors.New("account: transaction ended without a response")
		case <-tctx.Done():
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("%w within %v", ErrTimeout, r.cfg.RequestTimeout)
		}
	}
}

// grantedExpires reads the lifetime a 2xx to REGISTER grants contact: the
// ;expires parameter of the matching Contact (or of the only one), else
// the Expires header, else what was asked for (RFC 3261 §10.2.4).
func grantedExpires(resp *sip.Response, contact sip.Uri, asked time.Duration) time.Duration {
	var only *sip.ContactHeader
	n := 0
	for _, h := range resp.GetHeaders("Contact") {
		c, ok := h.(*sip.ContactHeader)
		if !ok {
			continue
		}
		n++
		only = c
		if sameContact(c.Address, contact) {
			if d, ok := paramSeconds(c.Params); ok {
				return d
			}
		}
	}
	if n == 1 {
		if d, ok := paramSeconds(only.Params); ok {
			return d
		}
	}
	if h := resp.GetHeader("Expires"); h != nil {
		if s, err := strconv.ParseUint(strings.TrimSpace(h.Value()), 10, 32); err == nil {
			return time.Duration(s) * time.Second
		}
	}
	return asked
}

func paramSeconds(p sip.HeaderParams) (time.Duration, bool) {
	v, ok := p.Get("expires")
	if !ok {
		return 0, false
	}
	s, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
	if err != nil {
		return 0, false
	}
	return time.Duration(s) * time.Second, true
}

// headerSeconds reads a header holding delta-seconds (Min-Expires,
// Retry-After, whose comment and parameters are ignored); 0 if absent.
func headerSeconds(resp *sip.Response, name string) time.Duration {
	h := resp.GetHeader(name)
	if h == nil {
		return 0
	}
	v := strings.TrimSpace(h.Value())
	if i := strings.IndexAny(v, " ;("); i >= 0 {
		v = v[:i]
	}
	s, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return 0
	}
	return time.Duration(s) * time.Second
}

func sameContact(a, b sip.Uri) bool {
	pa, pb := a.Port, b.Port
	return a.User == b.User && strings.EqualFold(strings.Trim(a.Host, "[]"), strings.Trim(b.Host, "[]")) && pa == pb
}
