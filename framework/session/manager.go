package session

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/sipstreams/sipstreams/framework/engine"
	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/framework/refer"
	"github.com/sipstreams/sipstreams/internal/workers"
	"github.com/sipstreams/sipstreams/sdk"
)

// Signalling is what sessions need of the SIP engine; *engine.Engine
// satisfies it.
type Signalling interface {
	Request(ctx context.Context, req *sip.Request, r engine.Route) (sip.ClientTransaction, error)
	Write(req *sip.Request, r engine.Route) error
	Respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string, body []byte, hdrs ...sip.Header) error
	ContactFor(r engine.Route, user string) sip.Uri
	OnRequest(method sip.RequestMethod, h sipgo.RequestHandler)
	LocalTag(req *sip.Request) string
}

// StreamSource builds streams for incoming offers (the registry's
// NewFromSDP; see StreamSourceFunc).
type StreamSource interface {
	NewFromSDP(ctx context.Context, req *sdk.NewFromSDPRequest) (Stream, error)
}

// StreamSourceFunc adapts a function to a StreamSource.
type StreamSourceFunc func(ctx context.Context, req *sdk.NewFromSDPRequest) (Stream, error)

// NewFromSDP calls f.
func (f StreamSourceFunc) NewFromSDP(ctx context.Context, req *sdk.NewFromSDPRequest) (Stream, error) {
	return f(ctx, req)
}

// Account is what a session knows of its account.
type Account struct {
	// ID is user@domain.
	ID          string
	DisplayName string
	// URI is the account's address of record, used in From.
	URI sip.Uri
	// Settings are the flattened settings passed to streams.
	Settings map[string]string
	// Credentials answer a 401 or 407 to the account's INVITEs (one
	// answer per challenge). Empty for the peer-to-peer account.
	Credentials engine.Credentials
}

// SDK returns the account as streams see it.
func (a *Account) SDK() *sdk.Account { return a.sdk() }

func (a *Account) sdk() *sdk.Account {
	if a == nil {
		return nil
	}
	return &sdk.Account{ID: a.ID, URI: a.URI.String(), DisplayName: a.DisplayName, Settings: a.Settings}
}

// Config configures a Manager.
type Config struct {
	Signalling Signalling
	Streams    StreamSource
	Center     *notify.Center
	// Account answers incoming sessions when AccountFor is not set (the
	// peer-to-peer account role).
	Account   *Account
	UserAgent string
	Logger    *slog.Logger
	// AccountFor, if set, finds the account an incoming INVITE is for
	// from its Request-URI (the reference's AccountManager.find_account,
	// which falls back on the peer-to-peer account when it is enabled);
	// nil means no account serves it: 404 (§2.4.1).
	AccountFor func(requestURI sip.Uri) *Account
	// TimerT1 is RFC 3261's round-trip estimate T1 (0: 500 ms). The 2xx
	// to an INVITE over UDP is retransmitted from T1 on, and a missing
	// ACK is given up on after 64·T1, as RFC 3261 §13.3.1.4 says.
	TimerT1 time.Duration
	// InviteTimeout bounds an unanswered INVITE or stream proposal when
	// the account's settings do not say (sip.invite_timeout; 0: 90 s).
	InviteTimeout time.Duration
	// MaxSessions bounds the sessions alive at once: an INVITE beyond it
	// is refused with 503 and Retry-After (0: DefaultMaxSessions).
	MaxSessions int
	// MaxSetupDelay is the overload control's target (see overload.go):
	// while setting up new sessions takes longer than this, fewer are
	// set up at once and the INVITEs beyond are answered 503 with
	// Retry-After at once (0: DefaultMaxSetupDelay; negative: no
	// overload control).
	MaxSetupDelay time.Duration
	// MaxMediaLines bounds the m-lines of an offer we take: more are
	// refused with 488 before any stream is built (0:
	// DefaultMaxMediaLines).
	MaxMediaLines int
	// Transfer places the call of a transfer the application accepted
	// (Session.AcceptTransfer): a new session from call.Account to
	// call.Target with streams of call.Types, connected with
	// call.Options, call.Watch called on it before it connects. Without
	// it transfers cannot be accepted. When it fails, the transferor is
	// told 480 for an error matching engine.ErrNoRoute (no route to the
	// target, as the reference's failed lookup) and 500 for any other.
	Transfer func(ctx context.Context, call TransferCall) (*Session, error)
}

// Resource bounds of a Manager.
const (
	DefaultMaxSessions   = 1000
	DefaultMaxMediaLines = 16
	// retryAfter is the Retry-After of a 503 for too many sessions.
	retryAfter = "5"
)

func (c *Config) maxSessions() int {
	if c.MaxSessions > 0 {
		return c.MaxSessions
	}
	return DefaultMaxSessions
}

func (c *Config) maxMediaLines() int {
	if c.MaxMediaLines > 0 {
		return c.MaxMediaLines
	}
	return DefaultMaxMediaLines
}

// maxSetupDelay is cfg.MaxSetupDelay or its default; <= 0 means none.
func (c *Config) maxSetupDelay() time.Duration {
	if c.MaxSetupDelay == 0 {
		return DefaultMaxSetupDelay
	}
	return c.MaxSetupDelay
}

// OverloadStats returns the figures of the manager's overload control.
func (m *Manager) OverloadStats() OverloadStats { return m.overload.stats() }

// timerT1 is cfg.TimerT1 or its default.
func (c *Config) timerT1() time.Duration {
	if c.TimerT1 > 0 {
		return c.TimerT1
	}
	return 500 * time.Millisecond
}

// Manager is the reference's SessionManager: it keeps the active sessions,
// turns incoming INVITEs into Sessions and routes in-dialog requests to
// them.
type Manager struct {
	cfg  Config
	log  *slog.Logger
	life context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup
	// closing is closed when Close begins: the followers of abandoned
	// INVITEs that never got an answer stop then (see send).
	closing chan struct{}

	overload *overload
	// loops runs the sessions' loops on goroutines kept for the next
	// session (a new one grew its stack by copying through the setup),
	// closed by Close.
	loops *workers.Pool

	mu       sync.Mutex
	sessions map[string]*Session // by Call-ID
	dialogs  map[string]*Session // the sessions' own other dialogs (subscriptions, REFERs), by Call-ID
	closed   bool
}

func (m *Manager) addDialog(callID string, s *Session) {
	m.mu.Lock()
	m.dialogs[callID] = s
	m.mu.Unlock()
}

func (m *Manager) removeDialog(callID string, s *Session) {
	m.mu.Lock()
	if m.dialogs[callID] == s {
		delete(m.dialogs, callID)
	}
	m.mu.Unlock()
}

// NewManager registers the manager's request handlers on the engine (do it
// before the engine starts) and posts SIPSessionManagerWillStart/DidStart.
func NewManager(cfg Config) *Manager {
	m := &Manager{cfg: cfg, sessions: map[string]*Session{}, dialogs: map[string]*Session{}, log: cfg.Logger, closing: make(chan struct{}), loops: workers.New(maxIdleLoops, idleLoopsLinger)}
	m.overload = newOverload(cfg.maxSetupDelay(), cfg.maxSessions())
	if a, ok := cfg.Signalling.(admitter); ok && m.overload.target > 0 {
		// The engine refuses what the limit would, before any
		// transaction, handler or session exists (onInvite checks again).
		a.SetAdmission(m.admissible)
		a.SetAdmitted(m.admitted)
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	m.life, m.stop = context.WithCancel(context.Background())
	m.post(SIPSessionManagerWillStart, m, nil)
	cfg.Signalling.OnRequest(sip.INVITE, m.onInvite)
	cfg.Signalling.OnRequest(sip.ACK, m.onAck)
	cfg.Signalling.OnRequest(sip.BYE, m.onBye)
	cfg.Signalling.OnRequest(sip.MESSAGE, m.onMessage)
	cfg.Signalling.OnRequest(sip.REFER, m.onRefer)
	cfg.Signalling.OnRequest(sip.NOTIFY, m.onNotify)
	m.post(SIPSessionManagerDidStart, m, nil)
	return m
}

func (m *Manager) post(name string, sender, data any) {
	m.cfg.Center.Post(notify.Notification{Name: name, Sender: sender, Data: data})
}

// Len returns the number of sessions not terminated yet (len(Sessions()),
// without the copy).
func (m *Manager) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sessions)
}

// Sessions returns the sessions not terminated yet.
func (m *Manager) Sessions() []*Session {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Session, 0, len(m.sessions))
	for _, s := range m.sessions {
		out = append(out, s)
	}
	return out
}

// NewSession returns an outgoing session of the manager's account, to be
// started with Connect (or ended with End).
func (m *Manager) NewSession() *Session {
	return m.NewSessionAs(m.cfg.Account)
}

// NewSessionAs makes an outgoing session calling from acc (its address of
// record in From, its credentials for Digest challenges to the INVITE, its
// settings for the streams) instead of the manager's account. A session of
// a closed manager is terminated already.
func (m *Manager) NewSessionAs(acc *Account) *Session {
	s, _ := m.start(acc, Outgoing, sip.GenerateTagN(32), sip.GenerateTagN(24))
	return s
}

// start makes a session and starts its loop; ok is false (and the session
// terminated) when the manager is closed or the Call-ID is taken.
func (m *Manager) start(acc *Account, dir Direction, callID, localTag string) (*Session, bool) {
	s := newSession(m, acc, dir, callID, localTag)
	m.mu.Lock()
	_, taken := m.sessions[callID]
	if m.closed || taken {
		m.mu.Unlock()
		s.state = StateTerminated
		s.cancel()
		close(s.done)
		return s, false
	}
	m.sessions[callID] = s
	m.wg.Add(1)
	m.mu.Unlock()
	m.loops.Go(s.run)
	return s, true
}

func (m *Manager) remove(s *Session) {
	m.mu.Lock()
	if m.sessions[s.callID] == s {
		delete(m.sessions, s.callID)
	}
	m.mu.Unlock()
}

func (m *Manager) find(req *sip.Request) *Session {
	id := req.CallID()
	if id == nil {
		return nil
	}
	return m.findID(id.Value())
}

// findID returns the session of a Call-ID, nil if none.
func (m *Manager) findID(callID string) *Session {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sessions[callID]
}

// admitter is a Signalling that can refuse new INVITEs before they become
// transactions (engine.Engine.SetAdmission).
type admitter interface {
	SetAdmission(func(callID string) bool)
	SetAdmitted(func(callID string))
}

// admissible tells the engine whether to take a new INVITE: not while the
// INVITEs in setup and those it took but the manager has not yet seen are
// at the overload limit (overload.admissible), except a retransmission of
// one of them (its transaction absorbs it).
func (m *Manager) admissible(callID string) bool {
	if m.overload.admissible(callID) || m.findID(callID) != nil {
		return true
	}
	m.overload.refuse()
	return false
}

// admitted holds a new INVITE the engine took, and found well formed, as
// pending until onInvite claims it (see overload.go); a retransmission of
// an INVITE in setup is not.
func (m *Manager) admitted(callID string) {
	if m.findID(callID) == nil {
		m.overload.hold(callID)
	}
}

// Close ends every session, waits for them (bounded by ctx: then the
// sessions left are aborted) and posts SIPSessionManagerWillEnd/DidEnd.
func (m *Manager) Close(ctx context.Context) {
	m.post(SIPSessionManagerWillEnd, m, nil)
	if a, ok := m.cfg.Signalling.(admitter); ok && m.overload.target > 0 {
		a.SetAdmission(nil)
		a.SetAdmitted(nil)
	}
	m.mu.Lock()
	if !m.closed {
		close(m.closing)
	}
	m.closed = true
	live := make([]*Session, 0, len(m.sessions))
	for _, s := range m.sessions {
		live = append(live, s)
	}
	m.mu.Unlock()
	for _, s := range live {
		s.q.push(func() { s.endLocal("") })
	}
	done := make(chan struct{})
	go func() { m.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		m.stop()
		<-done
	}
	m.stop()
	m.loops.Close() // every loop has returned (wg)
	m.post(SIPSessionManagerDidEnd, m, nil)
}

// maxIdleLoops is how many goroutines wait for a new session's loop at
// most, and idleLoopsLinger how long they wait when no session comes.
const (
	maxIdleLoops    = 64
	idleLoopsLinger = 2 * time.Second
)

// serve hands an in-dialog request to s's loop and waits until the loop
// answered it (the engine's handler rule); a request the session never
// answered — it ended meanwhile — gets 481.
func (m *Manager) serve(s *Session, req *sip.Request, tx sip.ServerTransaction, handle func(*Session, *serverReq)) {
	r := newServerReq(req, tx)
	if s.q.push(func() { handle(s, r) }) {
		select {
		case <-r.finished:
			return
		case <-tx.Done():
			return // cancelled or broken: sipgo answered
		case <-s.done:
		}
	}
	if r.final() {
		_ = m.cfg.Signalling.Respond(tx, req, 481, "Call/Transaction Does Not Exist", nil)
	}
}

// inDialog finds the session of an in-dialog request, or answers 481.
func (m *Manager) inDialog(req *sip.Request, tx sip.ServerTransaction) *Session {
	s := m.find(req)
	if s == nil || !s.matchesDialog(req) {
		_ = m.cfg.Signalling.Respond(tx, req, 481, "Call/Transaction Does Not Exist", nil)
		return nil
	}
	return s
}

func (m *Manager) onAck(req *sip.Request, _ sip.ServerTransaction) {
	if s := m.find(req); s != nil {
		s.q.push(func() { s.gotAck(req) })
	}
}

func (m *Manager) onBye(req *sip.Request, tx sip.ServerTransaction) {
	if s := m.inDialog(req, tx); s != nil {
		m.serve(s, req, tx, (*Session).gotBye)
	}
	// Over UDP sipgo keeps a BYE's transaction, request and response
	// 64·T1 (32 s) after the response, to answer a retransmission of the
	// BYE again (Timer J): at 1,000 calls/s, 32,000 transactions held for
	// that alone. Without it a retransmitted BYE — its response was lost
	// — finds no dialog and gets 481, which ends the dialog for its
	// sender just as well (RFC 3261 §15.1.1).
	tx.Terminate()
}

// onRefer takes an in-dialog REFER: the peer transfers the session.
func (m *Manager) onRefer(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to == nil || !hasTag(to.Params) {
		_ = m.cfg.Signalling.Respond(tx, req, 403, "Forbidden", nil, sip.NewHeader("Warning", `399 - "only in-dialog REFER is served"`))
		return
	}
	if s := m.inDialog(req, tx); s != nil {
		m.serve(s, req, tx, (*Session).gotRefer)
	}
}

// onNotify takes a NOTIFY: in a session's INVITE dialog the progress of
// its transfer; in one of its own dialogs (the conference subscription, a
// participant REFER) what that dialog is for.
func (m *Manager) onNotify(req *sip.Request, tx sip.ServerTransaction) {
	if id := req.CallID(); id != nil {
		m.mu.Lock()
		s := m.dialogs[id.Value()]
		m.mu.Unlock()
		if s != nil {
			m.serve(s, req, tx, (*Session).gotSubNotify)
			return
		}
	}
	if s := m.inDialog(req, tx); s != nil {
		m.serve(s, req, tx, (*Session).gotNotify)
	}
}

// onMessage takes an in-dialog MESSAGE (§2.6: SIPSessionGotMessage). A
// MESSAGE outside a dialog is not a session's: 405.
func (m *Manager) onMessage(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to == nil || !hasTag(to.Params) {
		_ = m.cfg.Signalling.Respond(tx, req, 405, "Method Not Allowed", nil, sip.NewHeader("Allow", "INVITE, ACK, BYE, CANCEL, MESSAGE"))
		return
	}
	if s := m.inDialog(req, tx); s != nil {
		m.serve(s, req, tx, (*Session).gotMessage)
	}
}

// tooManyLines is the Warning of an offer refused for its m-lines.
func tooManyLines(n, limit int) sip.Header {
	return sip.NewHeader("Warning", fmt.Sprintf(`399 - "the offer has %d media streams, more than %d"`, n, limit))
}

func hasTag(p sip.HeaderParams) bool {
	if p == nil {
		return false
	}
	tag, _ := p.Get("tag")
	return tag != ""
}

// onInvite handles a new INVITE or a re-INVITE. It returns only after the
// final response was sent: sipgo ends the server transaction with it.
func (m *Manager) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	sig := m.cfg.Signalling
	if id := req.CallID(); id != nil {
		// Taken by the engine as pending (see overload.go): the manager
		// has it now, whatever it answers below.
		m.overload.claim(id.Value())
	}
	if to := req.To(); to != nil && hasTag(to.Params) {
		if s := m.inDialog(req, tx); s != nil {
			// 100 at once, from here: the session may take a while (a
			// re-INVITE waits behind the ACK of the previous one), and
			// sipgo's own 100 after 200 ms could then overtake our final
			// response.
			_ = sig.Respond(tx, req, 100, "Trying", nil)
			m.serve(s, req, tx, (*Session).gotReinvite)
		}
		return
	}
	if req.CallID() == nil || req.From() == nil || req.CSeq() == nil {
		m.refuse(tx, req, 400, "Bad Request")
		return
	}
	if m.find(req) != nil {
		m.refuse(tx, req, 482, "Loop Detected")
		return
	}
	m.mu.Lock()
	closed, live := m.closed, len(m.sessions)
	m.mu.Unlock()
	if closed {
		m.refuse(tx, req, 480, "Temporarily Unavailable")
		return
	}
	if live >= m.cfg.maxSessions() {
		m.refuse(tx, req, 503, "Service Unavailable", sip.NewHeader("Retry-After", retryAfter))
		return
	}
	su, ok := m.overload.admit()
	if !ok {
		m.refuse(tx, req, 503, "Service Unavailable", sip.NewHeader("Retry-After", retryAfter),
			sip.NewHeader("Warning", `399 - "overloaded: too many sessions being set up"`))
		return
	}
	defer su.done(false)
	acc := m.cfg.Account
	if m.cfg.AccountFor != nil {
		acc = m.cfg.AccountFor(req.Recipient)
	}
	if acc == nil {
		m.refuse(tx, req, 404, "Not Found")
		return
	}
	offerText := string(req.Body())
	var offer *sdpSessionDescription
	if offerText != "" {
		var err error
		if offer, err = sdk.ParseSDP(offerText); err != nil {
			m.refuse(tx, req, 400, "Bad Request", sip.NewHeader("Warning", `399 - "malformed SDP"`))
			return
		}
		if n := len(offer.MediaDescriptions); n > m.cfg.maxMediaLines() {
			m.refuse(tx, req, 488, "Not Acceptable Here", tooManyLines(n, m.cfg.maxMediaLines()))
			return
		}
	}
	var replaced *Session
	if h := req.GetHeader("Replaces"); h != nil {
		var code int
		if replaced, code = m.replaces(h.Value()); replaced == nil {
			m.refuse(tx, req, code, reasonPhrase(code))
			return
		}
	}
	// No 100 Trying from here: the INVITE's server transaction sends one
	// if nothing else was sent within 200 ms (RFC 3261 §17.2.1), which an
	// application that rings or answers at once does not need — a 100
	// before a 200 a few ms later was a third of the SIP messages a
	// host sent for an auto-answered call.
	s, ok := m.start(acc, Incoming, req.CallID().Value(), sig.LocalTag(req))
	if !ok {
		m.refuse(tx, req, 480, "Temporarily Unavailable")
		return
	}
	r := newServerReq(req, tx)
	r.setup = su
	if replaced != nil {
		s.publish(func() { s.replaced = replaced })
	}
	if s.q.push(func() { s.incoming(r, offerText, offer) }) {
		select {
		case <-r.finished:
			return
		case <-tx.Done():
			return // cancelled or broken: sipgo answered
		case <-s.done:
		}
	}
	if r.final() {
		m.refuse(tx, req, 480, "Temporarily Unavailable")
	}
}

// refuse answers a new INVITE that gets no session, with code, and over
// UDP ends its transaction when the caller's ACK comes, as reject does:
// sipgo would keep the transaction T4 (5 s) after the ACK to absorb its
// retransmissions, and park the ACK nobody reads in a goroutine of its
// own that long — at 4,000 calls/s, 7,600 goroutines and their
// transactions for the 503s alone. A retransmitted ACK then reaches
// onAck, which finds no session. It waits for the ACK up to AckTimeout
// (a flood of INVITEs never ACKed parks a goroutine a second each, not
// until Timer H); then sipgo's timers end the transaction, as before.
// Over TCP and TLS sipgo ends the transaction when the handler returns.
func (m *Manager) refuse(tx sip.ServerTransaction, req *sip.Request, code int, reason string, hdrs ...sip.Header) {
	if err := m.cfg.Signalling.Respond(tx, req, code, reason, nil, hdrs...); err != nil || reliable(req) {
		return
	}
	t := time.NewTimer(AckTimeout)
	defer t.Stop()
	select {
	case <-tx.Acks():
		tx.Terminate()
	case <-tx.Done():
	case <-t.C:
	}
}

// replaces finds the session an INVITE's Replaces header names (RFC
// 3891, reference §2.8): nil and 481 when it is malformed or matches no
// dialog (SIPSessionNewIncomingFromTransferFailed says why), 603 when that
// session is ending.
func (m *Manager) replaces(value string) (*Session, int) {
	rep, err := refer.ParseReplaces(value)
	if err != nil {
		m.post(SIPSessionNewIncomingTransferFailed, m, IncomingFromTransferFailedData{Reason: "malformed Replaces header: " + err.Error()})
		return nil, 481
	}
	for _, s := range m.Sessions() {
		d := s.DialogID()
		if !rep.Matches(d.CallID, d.LocalTag, d.RemoteTag) {
			continue
		}
		switch s.State() {
		case StateTerminating, StateTerminated:
			return nil, 603
		}
		return s, 0
	}
	m.post(SIPSessionNewIncomingTransferFailed, m, IncomingFromTransferFailedData{Reason: "no dialog matches the Replaces header " + rep.String()})
	return nil, 481
}

// gotMessage answers an in-dialog MESSAGE and posts SIPSessionGotMessage.
func (s *Session) gotMessage(r *serverReq) {
	if s.starting() {
		// Sent right behind the ACK: take it once the session started.
		s.later(func() { s.gotMessage(r) })
		return
	}
	if !s.state.established() {
		s.respond(r, 481, "Call/Transaction Does Not Exist", nil)
		return
	}
	ct := "text/plain"
	if h := r.req.GetHeader("Content-Type"); h != nil {
		ct = h.Value()
	}
	s.respond(r, 200, "OK", nil)
	s.post(SIPSessionGotMessage, GotMessageData{ContentType: ct, Body: string(r.req.Body()), Headers: headersOf(r.req)})
}
