package application

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sipstreams/sipstreams/framework/account"
	"github.com/sipstreams/sipstreams/framework/config"
	"github.com/sipstreams/sipstreams/framework/engine"
	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/framework/session"
	"github.com/sipstreams/sipstreams/framework/storage"
	"github.com/sipstreams/sipstreams/registry"
)

// closeTimeout bounds the cleanup after a failed Start.
const closeTimeout = 20 * time.Second

// Application is the reference's SIPApplication: it owns the engine, the
// registry and the session manager and starts and stops them in order.
// Its methods are safe for concurrent use; Start and Stop are serialised.
type Application struct {
	opts   options
	log    *slog.Logger
	center *notify.Center

	op sync.Mutex // serialises Start and Stop

	mu       sync.Mutex
	state    State
	doc      *config.Document
	storage  storage.Storage
	eng      *engine.Engine
	reg      *registry.Registry
	sessions *session.Manager
	account  *session.Account
	accounts *account.Manager
}

// New returns a stopped application.
func New(opts ...Option) *Application {
	a := &Application{}
	for _, o := range opts {
		if o != nil {
			o(&a.opts)
		}
	}
	a.log = a.opts.logger
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	a.log = a.log.With("component", "application")
	a.center = a.opts.center
	if a.center == nil {
		a.center = notify.New(notify.WithLogger(a.log))
	}
	if a.opts.user == "" {
		a.opts.user = "sipstreams"
	}
	return a
}

var (
	defaultOnce sync.Once
	defaultApp  *Application
)

// Default returns the process-wide application, created on first use with
// [notify.Default] as its center: the reference's SIPApplication()
// singleton. Code that can be handed an *Application should prefer one
// made with [New].
func Default() *Application {
	defaultOnce.Do(func() { defaultApp = New(WithCenter(notify.Default())) })
	return defaultApp
}

func (a *Application) post(name string, data any) {
	a.center.Post(notify.Notification{Name: name, Sender: a, Data: data})
}

// State returns the life-cycle state.
func (a *Application) State() State {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.state
}

// Running reports whether the application is started.
func (a *Application) Running() bool { return a.State() == StateStarted }

// Center returns the notification center everything posts to.
func (a *Application) Center() *notify.Center { return a.center }

// Engine returns the SIP engine, or nil when stopped.
func (a *Application) Engine() *engine.Engine {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.eng
}

// Registry returns the MediaStreamRegistry, or nil when stopped.
func (a *Application) Registry() *registry.Registry {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.reg
}

// Sessions returns the session manager, or nil when stopped.
func (a *Application) Sessions() *session.Manager {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sessions
}

// Accounts returns the account manager of the running application (every
// account of the configuration, SIP accounts registering), or nil when it
// is stopped.
func (a *Application) Accounts() *account.Manager {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.accounts
}

// SessionAccount returns the identity a session calling from the
// configured account id uses: its address of record, display name, Digest
// credentials and flattened settings (for [session.Manager.NewSessionAs]).
// The peer-to-peer account's ID gives [Application.Account].
func (a *Application) SessionAccount(id string) (*session.Account, error) {
	a.mu.Lock()
	accounts, p2p, doc := a.accounts, a.account, a.doc
	a.mu.Unlock()
	if accounts == nil {
		return nil, ErrNotRunning
	}
	if p2p != nil && id == p2p.ID {
		return p2p, nil
	}
	acc, err := accounts.Get(id)
	if err != nil {
		return nil, err
	}
	if acc.IsPeerToPeer() {
		return p2p, nil
	}
	return sessionAccount(acc, &doc.Settings), nil
}

// sessionAccount is the session identity of a SIP account.
func sessionAccount(acc *account.Account, global *config.Settings) *session.Account {
	cfg := acc.Config()
	return &session.Account{
		ID:          acc.ID(),
		DisplayName: acc.DisplayName(),
		URI:         acc.URI(),
		Settings:    cfg.Flatten(global),
		Credentials: acc.Credentials(),
	}
}

// Routes returns where a session from the configured account id to target
// is sent: the account's outbound proxy when it has one, else target's own
// RFC 3263 routes.
func (a *Application) Routes(ctx context.Context, id string, target sip.Uri) ([]engine.Route, error) {
	a.mu.Lock()
	accounts, eng := a.accounts, a.eng
	a.mu.Unlock()
	if accounts == nil {
		return nil, ErrNotRunning
	}
	if acc, err := accounts.Get(id); err == nil {
		proxy, ok, err := acc.OutboundProxy()
		if err != nil {
			return nil, err
		}
		if ok {
			return eng.Lookup(ctx, proxy)
		}
	}
	return eng.Lookup(ctx, target)
}

// Account returns the peer-to-peer account sessions are made with, or nil
// when stopped. It must not be modified.
func (a *Application) Account() *session.Account {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.account
}

// Storage returns the storage given to Start, or nil before.
func (a *Application) Storage() storage.Storage {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.storage
}

// Settings returns a copy of the global settings loaded by the last Start,
// or the defaults before the first.
func (a *Application) Settings() config.Settings {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.doc == nil {
		return config.Default()
	}
	return a.doc.Settings.Clone()
}

// Start starts the application with the configuration of st (see the
// package documentation for the sequence). It returns once
// SIPApplicationDidStart has been posted, or with the error that stopped
// it, the application then being stopped again. ctx bounds the start.
func (a *Application) Start(ctx context.Context, st storage.Storage) (err error) {
	a.op.Lock()
	defer a.op.Unlock()
	a.mu.Lock()
	if a.state != StateStopped {
		a.mu.Unlock()
		return ErrRunning
	}
	a.state = StateStarting
	a.mu.Unlock()
	defer func() {
		if err != nil {
			a.setState(StateStopped)
		}
	}()
	if st == nil {
		st = storage.NewMemory()
	}
	doc, err := st.Load(ctx)
	if err != nil {
		return fmt.Errorf("application: loading the configuration: %w", err)
	}
	a.mu.Lock()
	a.doc, a.storage = doc, st
	a.mu.Unlock()

	a.post(SIPApplicationWillStart, nil)
	eng, err := a.startEngine(ctx, &doc.Settings)
	if err != nil {
		return err
	}
	reg := registry.New(append([]registry.Option{
		registry.WithNotifier(RegistryNotifier(a.center)),
		registry.WithLogger(a.log),
	}, a.registryOptions()...)...)
	undo := func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
		defer cancel()
		_ = a.closeAll(ctx, nil, reg, eng)
	}
	if err := reg.Discover(ctx); err != nil {
		undo()
		return fmt.Errorf("application: loading the plugins: %w", err)
	}
	acc, err := a.peerToPeerAccount(doc, eng)
	if err != nil {
		undo()
		return err
	}
	accounts, err := account.NewManager(account.ManagerConfig{Engine: eng, Center: a.center, Logger: a.log})
	if err == nil {
		err = accounts.Load(doc.Accounts, &doc.Settings)
	}
	if err != nil {
		undo()
		return fmt.Errorf("application: loading the accounts: %w", err)
	}
	mgr := session.NewManager(session.Config{
		Signalling: eng,
		Streams:    StreamSource(reg),
		Center:     a.center,
		Account:    acc,
		AccountFor: func(ruri sip.Uri) *session.Account {
			found := accounts.FindAccount(ruri)
			switch {
			case found == nil:
				return nil // 404: no account serves it
			case found.IsPeerToPeer():
				return acc
			}
			return sessionAccount(found, &doc.Settings)
		},
		UserAgent:     a.userAgent(&doc.Settings),
		Logger:        a.log,
		InviteTimeout: doc.Settings.SIP.InviteTimeout,
		Transfer:      a.placeTransferCall,
		MaxSessions:   doc.Settings.SIP.MaxSessions,
		MaxMediaLines: doc.Settings.SIP.MaxMediaStreams,
		MaxSetupDelay: setupDelay(doc.Settings.SIP.MaxSetupDelay),
	})
	// The handlers are in place: the requests held since the engine
	// started go on (instead of meeting 405 before: issue 16 item 10).
	eng.Ready()
	// The account manager starts last, as the reference's does: an
	// account's registration brings calls, which need the session manager.
	if err := accounts.Start(ctx); err != nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
		mgr.Close(cctx)
		cancel()
		undo()
		return fmt.Errorf("application: starting the accounts: %w", err)
	}
	a.mu.Lock()
	a.eng, a.reg, a.sessions, a.account, a.accounts = eng, reg, mgr, acc, accounts
	a.state = StateStarted
	a.mu.Unlock()
	a.log.Info("started", "addrs", eng.Addrs(), "account", acc.URI.String())
	a.post(SIPApplicationDidStart, nil)
	return nil
}

func (a *Application) registryOptions() []registry.Option {
	var opts []registry.Option
	if a.opts.pluginDir != "" {
		opts = append(opts, registry.WithDir(a.opts.pluginDir))
	}
	return append(opts, a.opts.regOpts...)
}

func (a *Application) setState(s State) {
	a.mu.Lock()
	a.state = s
	a.mu.Unlock()
}

func (a *Application) userAgent(s *config.Settings) string {
	if a.opts.userAgent != "" {
		return a.opts.userAgent
	}
	return s.UserAgent
}

// engineConfig builds the engine's configuration from the options and
// settings.
func (a *Application) engineConfig(s *config.Settings) (engine.Config, error) {
	cfg := engine.Config{
		UserAgent:   a.userAgent(s),
		Listen:      a.opts.listen,
		TLSCertFile: s.TLS.Certificate,
		TLSKeyFile:  s.TLS.PrivateKey,
		Center:      a.center,
		Trace:       s.Logs.TraceSIP || a.opts.traceSIP,
		TraceKeys:   s.Logs.TraceSIPKeys || a.opts.traceSIPKeys,
		Logger:      a.log,

		IdleTimeout:              s.SIP.ConnectionIdleTimeout,
		TLSHandshakeTimeout:      s.SIP.TLSHandshakeTimeout,
		MaxConnectionsPerAddress: s.SIP.MaxConnectionsPerAddress,
		// The session manager's handlers are registered once the engine
		// listens (the peer-to-peer account needs its addresses): Start
		// makes it ready then.
		WaitReady: true,
	}
	if len(cfg.Listen) == 0 {
		cfg.Listen = listenFromSettings(s)
	}
	client, err := clientTLS(&s.TLS)
	if err != nil {
		return cfg, err
	}
	cfg.ClientTLSConfig = client
	return cfg, nil
}

// clientTLS is the configuration of outgoing SIP TLS connections: the
// server's certificate verified against the system's roots plus
// tls.ca_list, unless tls.verify_server is false.
func clientTLS(s *config.TLSSettings) (*tls.Config, error) {
	client := &tls.Config{MinVersion: tls.VersionTLS12}
	if !s.VerifyServer {
		client.InsecureSkipVerify = true //nolint:gosec // tls.verify_server = no: the user's explicit choice
	}
	if s.CAList == "" {
		return client, nil // nil RootCAs: the system's roots
	}
	pem, err := os.ReadFile(s.CAList)
	if err != nil {
		return nil, fmt.Errorf("application: tls.ca_list: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("application: tls.ca_list: %s holds no certificate", s.CAList)
	}
	client.RootCAs = pool
	return client, nil
}

// listenFromSettings is one listener per enabled transport (UDP, TCP, TLS
// order) and listen address (every IPv4 address when none is set).
func listenFromSettings(s *config.Settings) []engine.Listen {
	addrs := s.SIP.ListenAddresses
	if len(addrs) == 0 {
		addrs = []string{"0.0.0.0"}
	}
	ports := map[engine.Transport]int{
		engine.TransportUDP: s.SIP.UDPPort,
		engine.TransportTCP: s.SIP.TCPPort,
		engine.TransportTLS: s.SIP.TLSPort,
	}
	var out []engine.Listen
	for _, t := range []engine.Transport{engine.TransportUDP, engine.TransportTCP, engine.TransportTLS} {
		enabled := false
		for _, c := range s.SIP.TransportList {
			if string(c) == string(t) {
				enabled = true
			}
		}
		if !enabled {
			continue
		}
		for _, ip := range addrs {
			out = append(out, engine.Listen{Transport: t, Address: net.JoinHostPort(ip, strconv.Itoa(ports[t]))})
		}
	}
	return out
}

// startEngine builds and starts the engine; on a TLS failure it posts
// SIPApplicationFailedToStartTLS and starts without TLS.
func (a *Application) startEngine(ctx context.Context, s *config.Settings) (*engine.Engine, error) {
	cfg, err := a.engineConfig(s)
	if err != nil {
		return nil, err
	}
	eng, err := engine.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("application: %w", err)
	}
	err = eng.Start(ctx)
	if errors.Is(err, engine.ErrTLS) {
		_ = eng.Close()
		a.log.Warn("starting without TLS", "error", err)
		a.post(SIPApplicationFailedToStartTLS, FailedToStartTLSData{Error: err})
		if eng, err = engine.New(cfg.WithoutTLS()); err != nil {
			return nil, fmt.Errorf("application: %w", err)
		}
		err = eng.Start(ctx)
	}
	if err != nil {
		_ = eng.Close()
		return nil, fmt.Errorf("application: starting the SIP engine: %w", err)
	}
	return eng, nil
}

// peerToPeerAccount is the session account of the peer-to-peer account:
// sip:<user>@<listen IP>:<port> on the first listener.
func (a *Application) peerToPeerAccount(doc *config.Document, eng *engine.Engine) (*session.Account, error) {
	addrs := eng.Addrs()
	if len(addrs) == 0 {
		return nil, errors.New("application: the engine listens nowhere")
	}
	first := addrs[0]
	uri := eng.Contact(first.Transport, a.opts.user)
	if uri.Host == "" {
		uri = sip.Uri{Scheme: "sip", User: a.opts.user, Host: first.IP.String(), Port: first.Port}
	}
	p2p, _ := doc.Account(config.PeerToPeerAccountID)
	return &session.Account{
		ID:          p2p.ID,
		DisplayName: p2p.DisplayName,
		URI:         uri,
		Settings:    p2p.Flatten(&doc.Settings),
	}, nil
}

// Stop ends every session and stops the registry and the engine (see the
// package documentation), bounded by ctx. It returns [ErrNotRunning] when
// the application is stopped.
func (a *Application) Stop(ctx context.Context) error {
	a.op.Lock()
	defer a.op.Unlock()
	a.mu.Lock()
	if a.state != StateStarted {
		a.mu.Unlock()
		return ErrNotRunning
	}
	a.state = StateStopping
	mgr, reg, eng, accounts := a.sessions, a.reg, a.eng, a.accounts
	a.mu.Unlock()
	a.post(SIPApplicationWillEnd, nil)
	// Accounts first (unregistering while the engine still runs), as the
	// reference's stop does.
	var accErr error
	if accounts != nil {
		if err := accounts.Stop(ctx); err != nil {
			accErr = fmt.Errorf("application: stopping the accounts: %w", err)
		}
	}
	err := errors.Join(accErr, a.closeAll(ctx, mgr, reg, eng))
	a.mu.Lock()
	a.sessions, a.reg, a.eng, a.account, a.accounts = nil, nil, nil, nil, nil
	a.state = StateStopped
	a.mu.Unlock()
	a.post(SIPApplicationDidEnd, nil)
	return err
}

func (a *Application) closeAll(ctx context.Context, mgr *session.Manager, reg *registry.Registry, eng *engine.Engine) error {
	var errs []error
	if mgr != nil {
		mgr.Close(ctx)
	}
	if reg != nil {
		if err := reg.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("application: closing the registry: %w", err))
		}
	}
	if eng != nil {
		if err := eng.Close(); err != nil {
			errs = append(errs, fmt.Errorf("application: closing the SIP engine: %w", err))
		}
	}
	return errors.Join(errs...)
}

// setupDelay maps the setting sip.max_setup_delay (0: off) onto
// session.Config.MaxSetupDelay (negative: off).
func setupDelay(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}
