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
	"github.com/sipstreams/sipstreams/registry"
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

// StreamSource builds streams for incoming offers; *registry.Registry
// satisfies it.
type StreamSource interface {
	NewFromSDP(ctx context.Context, req *sdk.NewFromSDPRequest) (*registry.Stream, error)
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
	// Account answers incoming sessions (the peer-to-peer account role).
	Account   *Account
	UserAgent string
	Logger    *slog.Logger
	// AccountFor, if set, finds the account an incoming INVITE is for
	// from its Request-URI (the reference's AccountManager.find_account);
	// a nil result, or no AccountFor, means Account.
	AccountFor func(requestURI sip.Uri) *Account
	// TimerT1 is RFC 3261's round-trip estimate T1 (0: 500 ms). The 2xx
	// to an INVITE over UDP is retransmitted from T1 on, and a missing
	// ACK is given up on after 64·T1, as RFC 3261 §13.3.1.4 says.
	TimerT1 time.Duration
}

// timerT1 is cfg.TimerT1 or its default.
func (c *Config) timerT1() time.Duration {
	if c.TimerT1 > 0 {
		return c.TimerT1
	}
	return 500 * time.Millisecond
}

// Manager is the reference's SessionManager: it keeps the active sessions,
// turns incoming INVITEs into Sessions and routes in-dialog requests.
type Manager struct {
	cfg  Config
	log  *slog.Logger
	life context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup

	mu       sync.Mutex
	sessions map[string]*Session // by Call-ID
	closed   bool

	unsubFail func() // ends the MediaStreamDidFail subscription
	// failedEarly are streams that failed before a session made them
	// active (between their MediaStreamDidStart and the session's
	// start): the session handles them once it started.
	failedEarly map[Stream]earlyFailure
}

// earlyFailure is a stream failure waiting for its session.
type earlyFailure struct {
	reason string
	at     time.Time
}

// NewManager registers the manager's request handlers on the engine (do it
// before the engine starts) and posts SIPSessionManagerWillStart/DidStart.
func NewManager(cfg Config) *Manager {
	m := &Manager{cfg: cfg, sessions: map[string]*Session{}, log: cfg.Logger, failedEarly: map[Stream]earlyFailure{}}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	m.life, m.stop = context.WithCancel(context.Background())
	m.post(SIPSessionManagerWillStart, m, nil)
	if cfg.Center != nil {
		m.unsubFail = cfg.Center.Subscribe(notify.ObserverFunc(m.onStreamFailed), sdk.MediaStreamDidFail, nil)
	}
	cfg.Signalling.OnRequest(sip.INVITE, m.onInvite)
	cfg.Signalling.OnRequest(sip.ACK, m.onAck)
	cfg.Signalling.OnRequest(sip.BYE, m.onBye)
	m.post(SIPSessionManagerDidStart, m, nil)
	return m
}

func (m *Manager) post(name string, sender, data any) {
	m.cfg.Center.Post(notify.Notification{Name: name, Sender: sender, Data: data})
}

// Sessions returns the active sessions.
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
// started with Connect.
func (m *Manager) NewSession() *Session {
	return m.NewSessionAs(m.cfg.Account)
}

// NewSessionAs makes an outgoing session calling from acc (its address of
// record in From, its credentials for Digest challenges to the INVITE, its
// settings for the streams) instead of the manager's account.
func (m *Manager) NewSessionAs(acc *Account) *Session {
	return newSession(m, acc, Outgoing, sip.GenerateTagN(24))
}

func (m *Manager) add(s *Session) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false
	}
	m.sessions[s.callID] = s
	return true
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
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sessions[id.Value()]
}

// Close ends every session (bounded by ctx), waits for their work and
// posts SIPSessionManagerWillEnd/DidEnd.
func (m *Manager) Close(ctx context.Context) {
	m.post(SIPSessionManagerWillEnd, m, nil)
	m.mu.Lock()
	m.closed = true
	live := make([]*Session, 0, len(m.sessions))
	for _, s := range m.sessions {
		live = append(live, s)
	}
	m.mu.Unlock()
	for _, s := range live {
		s.End()
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
	if m.unsubFail != nil {
		m.unsubFail()
	}
	m.post(SIPSessionManagerDidEnd, m, nil)
}

// onStreamFailed handles a stream that failed after it started — its
// plugin crashed, its peer broke the MSRP connection, … — as the
// reference does (§2.5): the session ends when it was its only stream,
// else the stream is removed by re-INVITE, or the session ends when that
// is not possible in its state. Failures while streams start are the
// start path's to handle: a stream counts only once it is active.
func (m *Manager) onStreamFailed(n notify.Notification) {
	st, ok := n.Sender.(Stream)
	if !ok {
		return
	}
	reason := fmt.Sprintf("%s media stream failed: %s", st.Type(), dataReason(n.Data))
	m.mu.Lock()
	var owner *Session
	for _, s := range m.sessions {
		if s.hasActive(st) {
			owner = s
			break
		}
	}
	if owner == nil {
		// Not active (yet): the session starting it picks this up once
		// it started (claimFailed); one that never does (its start path
		// saw the failure) leaves it to expire here.
		now := time.Now()
		for k, f := range m.failedEarly {
			if now.Sub(f.at) > time.Minute {
				delete(m.failedEarly, k)
			}
		}
		m.failedEarly[st] = earlyFailure{reason: reason, at: now}
	}
	m.mu.Unlock()
	if owner != nil {
		m.streamFailed(owner, st, reason)
	}
}

// streamFailed acts on the failure of s's active stream st (§2.5).
func (m *Manager) streamFailed(s *Session, st Stream, reason string) {
	m.log.Info("stream failed", "session", s.CallID(), "reason", reason)
	if len(s.Streams()) > 1 && s.RemoveStreams([]Stream{st}) == nil {
		return
	}
	s.endWith(reason)
}

// claimFailed handles the streams of s that failed before s made them
// active. It reports whether it ended or changed the session.
func (m *Manager) claimFailed(s *Session) bool {
	m.mu.Lock()
	var failed []Stream
	var reasons []string
	for _, st := range s.Streams() {
		if f, ok := m.failedEarly[st]; ok {
			delete(m.failedEarly, st)
			failed = append(failed, st)
			reasons = append(reasons, f.reason)
		}
	}
	m.mu.Unlock()
	for i, st := range failed {
		m.streamFailed(s, st, reasons[i])
	}
	return len(failed) > 0
}

func (m *Manager) onAck(req *sip.Request, _ sip.ServerTransaction) {
	if s := m.find(req); s != nil {
		s.gotAck(req)
	}
}

func (m *Manager) onBye(req *sip.Request, tx sip.ServerTransaction) {
	s := m.find(req)
	if s == nil || !s.matchesDialog(req) {
		_ = m.cfg.Signalling.Respond(tx, req, 481, "Call/Transaction Does Not Exist", nil)
		return
	}
	s.gotBye(req, tx)
}

// onInvite handles a new INVITE or a re-INVITE. It returns only after the
// final response was sent: sipgo ends the server transaction with it.
func (m *Manager) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	sig := m.cfg.Signalling
	if to := req.To(); to != nil {
		if tag, _ := to.Params.Get("tag"); tag != "" {
			s := m.find(req)
			if s == nil || !s.matchesDialog(req) {
				_ = sig.Respond(tx, req, 481, "Call/Transaction Does Not Exist", nil)
				return
			}
			s.gotReinvite(req, tx)
			return
		}
	}
	if m.find(req) != nil {
		_ = sig.Respond(tx, req, 482, "Loop Detected", nil)
		return
	}
	m.mu.Lock()
	closed := m.closed
	m.mu.Unlock()
	if closed || m.cfg.Account == nil {
		_ = sig.Respond(tx, req, 480, "Temporarily Unavailable", nil)
		return
	}
	offerText := string(req.Body())
	if offerText == "" {
		_ = sig.Respond(tx, req, 488, "Not Acceptable Here", nil, sip.NewHeader("Warning", `399 - "an INVITE without SDP is not supported"`))
		return
	}
	offer, err := sdk.ParseSDP(offerText)
	if err != nil {
		_ = sig.Respond(tx, req, 400, "Bad Request", nil, sip.NewHeader("Warning", `399 - "malformed SDP"`))
		return
	}
	acc := m.cfg.Account
	if m.cfg.AccountFor != nil {
		if a := m.cfg.AccountFor(req.Recipient); a != nil {
			acc = a
		}
	}
	s := newSession(m, acc, Incoming, sig.LocalTag(req))
	s.initIncoming(req, tx, offerText, offer)
	ctx, cancel := context.WithTimeout(m.life, MediaStreamTimeout)
	streams := m.dispatch(ctx, s, offerText, offer)
	cancel()
	if len(streams) == 0 {
		_ = sig.Respond(tx, req, 488, "Not Acceptable Here", nil)
		return
	}
	if !m.add(s) {
		end(m.life, streams)
		_ = sig.Respond(tx, req, 480, "Temporarily Unavailable", nil)
		return
	}
	s.runIncoming(streams)
}

// dispatch asks the registry for a stream for every m-line with a port
// (reference §1.3); the streams are prepared (initialized, answer ready).
func (m *Manager) dispatch(ctx context.Context, s *Session, offerText string, offer *sdpSessionDescription) []Stream {
	var streams []Stream
	for i := range offer.MediaDescriptions {
		if mediaPort(offer, i) == 0 {
			continue
		}
		st, err := m.cfg.Streams.NewFromSDP(ctx, &sdk.NewFromSDPRequest{
			Account:     s.acc.sdk(),
			RemoteSDP:   offerText,
			StreamIndex: i,
			Prepare:     &sdk.Prepare{Session: s.info(), Direction: string(Incoming), LocalMedia: true},
		})
		if err != nil {
			m.log.Debug("m-line not accepted", "index", i, "error", err)
			continue
		}
		s.index[st] = i
		streams = append(streams, st)
	}
	return streams
}
